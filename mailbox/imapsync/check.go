package imapsync

import (
	"context"
	"net/url"
	"slices"
)

// Report is what Check found on the server.
type Report struct {
	// Mailbox is the checkpoint name, user@host:port/mailbox.
	Mailbox string
	// Capabilities the server advertised after login, sorted.
	Capabilities []string
	// IDLE says whether the server can push new mail (it advertises IDLE
	// or IMAP4rev2); without it the Syncer polls.
	IDLE        bool
	Messages    uint32
	UIDValidity uint32
	UIDNext     uint32
}

// Check connects to u, logs in and selects the mailbox, and reports what
// it found; for `recoverydesk mailbox check`. It touches no checkpoint.
func Check(ctx context.Context, u *url.URL) (Report, error) {
	t, err := parseURL(u)
	if err != nil {
		return Report{}, err
	}
	cn, err := dial(ctx, t)
	if err != nil {
		return Report{}, err
	}
	defer cn.close()
	var caps []string
	for c := range cn.c.Caps() {
		caps = append(caps, string(c))
	}
	slices.Sort(caps)
	return Report{
		Mailbox:      t.key(),
		Capabilities: caps,
		IDLE:         cn.idle,
		Messages:     cn.sel.NumMessages,
		UIDValidity:  cn.sel.UIDValidity,
		UIDNext:      uint32(cn.sel.UIDNext),
	}, nil
}
