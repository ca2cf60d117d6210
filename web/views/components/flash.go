package components

// Flash is a one-time message shown at the top of the next page, e.g.
// "Delivered to the support mailbox" after a redirect.
type Flash struct {
	// Kind is "success", "error" or "info"; it picks the style only, the
	// message itself says what happened.
	Kind    string
	Message string
}
