package mailbox

import (
	"errors"
	"regexp"
	"strings"
)

// Bounce is what a delivery report says about one mail we sent.
type Bounce struct {
	// OriginalMessageID is the Message-ID of the reported mail, without
	// angle brackets; "" when the report does not include its header.
	OriginalMessageID string
	// Recipient is the address delivery failed (or is delayed) for.
	Recipient string
	// Status is the RFC 3463 enhanced status code, e.g. "5.1.1".
	Status string
	// Action is the RFC 3464 action: "failed", "delayed", or for success
	// reports "delivered", "relayed", "expanded".
	Action string
	// Diagnostic is the remote server's explanation, unfolded.
	Diagnostic string
	// Permanent is true when the mail will not be delivered: the reporting
	// server gave up. A delay notice is not permanent.
	Permanent bool
}

// ParseDSN reads the message/delivery-status part of an RFC 3464 report
// and, when given, the returned message or its header (the message/rfc822
// or text/rfc822-headers part) for the original Message-ID. Of several
// recipients it reports the first that failed, else the first delayed,
// else the first. Fields it does not use (X-Postfix-*, Remote-MTA, ...)
// are ignored. It fails when the report names no recipient.
func ParseDSN(deliveryStatus []byte, originalHeaders []byte) (Bounce, error) {
	groups := headerGroups(string(deliveryStatus))
	var recipients []map[string]string
	for _, g := range groups {
		if g["final-recipient"] != "" || g["original-recipient"] != "" {
			recipients = append(recipients, g)
		}
	}
	if len(recipients) == 0 {
		return Bounce{}, errors.New("mailbox: parse dsn: no Final-Recipient field")
	}
	chosen := recipients[0]
	for _, action := range []string{"failed", "delayed"} {
		if r := firstWithAction(recipients, action); r != nil {
			chosen = r
			break
		}
	}
	b := Bounce{
		Recipient:  recipientOf(chosen),
		Action:     strings.ToLower(firstToken(chosen["action"])),
		Status:     statusCode(chosen["status"]),
		Diagnostic: stripType(chosen["diagnostic-code"]),
	}
	if b.Status == "" {
		b.Status = statusCode(b.Diagnostic)
	}
	b.Permanent = b.Action == "failed" || (b.Action == "" && strings.HasPrefix(b.Status, "5."))
	if originalHeaders != nil {
		b.OriginalMessageID = messageIDOf(string(originalHeaders))
	}
	return b, nil
}

func firstWithAction(groups []map[string]string, action string) map[string]string {
	for _, g := range groups {
		if strings.EqualFold(firstToken(g["action"]), action) {
			return g
		}
	}
	return nil
}

// recipientOf prefers Original-Recipient, the address as we gave it to the
// first server, since a forward may have changed the final one.
func recipientOf(g map[string]string) string {
	for _, name := range []string{"original-recipient", "final-recipient"} {
		typ, addr, ok := strings.Cut(g[name], ";")
		if ok && strings.EqualFold(strings.TrimSpace(typ), "rfc822") {
			if a := strings.Trim(strings.TrimSpace(addr), "<>"); a != "" {
				return a
			}
		}
	}
	return stripType(g["final-recipient"])
}

// stripType drops the "type;" prefix of a typed field (RFC 3464 2.1.2):
// "smtp; 550 5.1.1 unknown" is "550 5.1.1 unknown".
func stripType(v string) string {
	if typ, rest, ok := strings.Cut(v, ";"); ok && !strings.ContainsAny(strings.TrimSpace(typ), " \t<@") {
		v = rest
	}
	return strings.TrimSpace(v)
}

// statusPattern is an RFC 3463 code: class 2, 4 or 5, subject, detail.
var statusPattern = regexp.MustCompile(`^[245]\.\d{1,3}\.\d{1,3}$`)

// statusCode finds the first enhanced status code in s. It looks at whole
// dotted tokens, so an IP address such as 5.1.1.7 is not taken for one.
func statusCode(s string) string {
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' }) {
		if tok = strings.TrimRight(tok, "."); statusPattern.MatchString(tok) {
			return tok
		}
	}
	return ""
}

// messageIDOf returns the Message-ID in a header block (or a whole
// message, whose body is not read), without angle brackets.
func messageIDOf(header string) string {
	groups := headerGroups(header)
	if len(groups) == 0 {
		return ""
	}
	return cleanMessageID(groups[0]["message-id"])
}

func cleanMessageID(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return strings.TrimSpace(v[i+1 : i+j])
		}
	}
	if f := strings.Fields(v); len(f) > 0 {
		return strings.Trim(f[0], "<>")
	}
	return ""
}

// headerGroups splits text into blank-line separated groups of header
// fields, keyed by lower-cased name; folded lines are unfolded and the
// first occurrence of a name wins. It is lenient: a line without a colon
// is skipped, as real reports contain such noise.
func headerGroups(text string) []map[string]string {
	var groups []map[string]string
	var cur map[string]string
	last := ""
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			cur, last = nil, ""
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if cur != nil && last != "" {
				cur[last] = strings.TrimSpace(cur[last] + " " + strings.TrimSpace(line))
			}
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			last = ""
			continue
		}
		if cur == nil {
			cur = map[string]string{}
			groups = append(groups, cur)
		}
		if _, seen := cur[name]; seen {
			last = ""
			continue
		}
		cur[name] = strings.TrimSpace(value)
		last = name
	}
	return groups
}

// ParseNonStandardBounce recognises the bounce notices that arrive without
// a delivery-status part: Exim ("Mail delivery failed: returning message to
// sender"), qmail ("Hi. This is the qmail-send program"), Postfix
// ("Undelivered Mail Returned to Sender"), Microsoft Exchange
// ("Undeliverable:" with "Diagnostic information for administrators") and
// the generic form of a robot sender with a bounce subject (sendmail's
// "Returned mail"). body is the notice's text; when the returned message
// came as a separate part the caller may append it, since the original
// Message-ID is looked for in it. The notice's own marker must be written
// by a robot or match its usual subject, so a person forwarding a bounce to
// us is not taken for one. Delay warnings give Permanent false.
func ParseNonStandardBounce(subject, fromAddr, body string) (Bounce, bool) {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	notice, original := splitReturned(body)
	robot := fromAddr == "" || robotSender(fromAddr) != "" ||
		strings.HasPrefix(strings.ToLower(localPart(fromAddr)), "microsoftexchange")
	var form *bounceForm
	for i := range bounceForms {
		f := &bounceForms[i]
		if hasLineStarting(notice, f.markers...) && (robot || f.subject.MatchString(subject)) {
			form = f
			break
		}
	}
	if form == nil {
		if robotSender(fromAddr) == "" || !genericSubject.MatchString(subject) {
			return Bounce{}, false
		}
		form = &genericForm
	}
	b := Bounce{Action: "failed", Permanent: true}
	if delayNotice(subject, notice) {
		b.Action, b.Permanent = "delayed", false
	}
	b.Recipient, b.Diagnostic = form.extract(notice)
	if b.Status = statusCode(b.Diagnostic); b.Status == "" {
		b.Status = statusCode(notice)
	}
	b.OriginalMessageID = messageIDLine(original)
	return b, true
}

// bounceForm is one mail system's bounce notice: the line that marks it,
// its usual subject, and how to read the recipient and diagnostic from it.
type bounceForm struct {
	markers []string
	subject *regexp.Regexp
	extract func(notice string) (recipient, diagnostic string)
}

var (
	bounceForms = []bounceForm{
		{ // Exim
			markers: []string{"This message was created automatically by mail delivery software"},
			subject: regexp.MustCompile(`(?i)^(Mail delivery failed|Warning: message \S+ delayed)`),
			extract: eximRecipient,
		},
		{ // qmail
			markers: []string{"Hi. This is the qmail-send program"},
			subject: regexp.MustCompile(`(?i)^failure notice`),
			extract: angleRecipient,
		},
		{ // Postfix
			markers: []string{"This is the mail system at host "},
			subject: regexp.MustCompile(`(?i)^(Undelivered Mail Returned to Sender|Delayed Mail \(still being retried\))`),
			extract: angleRecipient,
		},
		{ // Microsoft Exchange and Microsoft 365
			markers: []string{"Diagnostic information for administrators", "Delivery has failed to these recipients or groups", "Delivery is delayed to these recipients or groups"},
			subject: regexp.MustCompile(`(?i)^(Undeliverable|Delivery delayed):`),
			extract: exchangeRecipient,
		},
	}
	// genericForm reads a notice from a robot sender in no known form,
	// e.g. sendmail's "Returned mail: see transcript for details".
	genericForm    = bounceForm{extract: genericRecipient}
	genericSubject = regexp.MustCompile(`(?i)(returned mail|delivery status notification|undeliver|delivery (failure|failed|problem|delayed)|failure notice|mail delivery|could not be delivered|non-?delivery)`)

	// returnedSeparators introduce the copy of the returned message.
	returnedSeparators = []string{
		"------ This is a copy of the message, including all the headers. ------",
		"------ This is a copy of the message's headers. ------",
		"--- Below this line is a copy of the message.",
		"Original message headers:",
		"----- Original message follows -----",
		"----- Unsent message follows -----",
		"----- Message header follows -----",
	}

	delaySubject = regexp.MustCompile(`(?i)(delayed|\(delay\)|still being retried|warning: message)`)
	// delayPhrases, lower-cased, mark a delay warning's text.
	delayPhrases = []string{"has not yet been delivered", "hasn't been delivered yet", "this is a warning only",
		"delivery is delayed", "will be retried", "will continue to be attempted", "will keep trying"}
	emailPattern = regexp.MustCompile("[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)+")
	anglePattern = regexp.MustCompile(`^<([^>\s]+@[^>\s]+)>(?:\s+\(expanded from <([^>\s]+)>\))?:\s*(.*)$`)
	remoteSaid   = regexp.MustCompile(`(?i)returned '(.*)'`)
)

// splitReturned cuts body at the copy of the returned message. Without a
// separator the whole body is searched for the original header.
func splitReturned(body string) (notice, original string) {
	// Exact case: mail systems write these lines verbatim, and searching
	// a lower-cased copy would give wrong offsets for invalid UTF-8.
	for _, sep := range returnedSeparators {
		if i := strings.Index(body, sep); i >= 0 {
			return body[:i], body[i+len(sep):]
		}
	}
	return body, body
}

func delayNotice(subject, notice string) bool {
	if delaySubject.MatchString(subject) {
		return true
	}
	lower := strings.ToLower(notice)
	for _, p := range delayPhrases {
		if strings.Contains(lower, p) {
			return true
		}
	}
	return false
}

// hasLineStarting reports whether a line of text starts with one of the
// prefixes. Literal search keeps this cheap on long notices.
func hasLineStarting(text string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(text, p) || strings.Contains(text, "\n"+p) {
			return true
		}
	}
	return false
}

// messageIDLine finds a Message-ID field at the start of a line, possibly
// folded onto the next one.
func messageIDLine(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		name, value, ok := strings.Cut(l, ":")
		if !ok || !strings.EqualFold(name, "message-id") {
			continue
		}
		if strings.TrimSpace(value) == "" && i+1 < len(lines) && strings.HasPrefix(lines[i+1], " ") {
			value = lines[i+1]
		}
		if id := cleanMessageID(value); id != "" {
			return id
		}
	}
	return ""
}

// eximRecipient reads the indented block after "The following address(es)
// failed:" (or, in a delay warning, "The address to which the message has
// not yet been delivered is:"): the address, then its deeper-indented
// diagnostic lines.
func eximRecipient(notice string) (string, string) {
	lines := strings.Split(notice, "\n")
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if !strings.HasSuffix(t, "failed:") && !(strings.Contains(t, "not yet been delivered") && strings.HasSuffix(t, ":")) {
			continue
		}
		j := nextNonBlank(lines, i+1)
		if j < 0 {
			return "", ""
		}
		recipient := firstEmail(lines[j])
		indent := indentOf(lines[j])
		var diag []string
		for _, d := range lines[j+1:] {
			if strings.TrimSpace(d) == "" || indentOf(d) <= indent {
				break
			}
			diag = append(diag, strings.TrimSpace(d))
		}
		return recipient, strings.Join(diag, " ")
	}
	return genericRecipient(notice)
}

// angleRecipient reads "<addr>: text" (Postfix) or "<addr>:" followed by
// lines (qmail) up to the next blank line. For an alias Postfix names the
// address we sent to as "expanded from".
func angleRecipient(notice string) (string, string) {
	lines := strings.Split(notice, "\n")
	for i, l := range lines {
		m := anglePattern.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		recipient := m[1]
		if m[2] != "" {
			recipient = m[2]
		}
		diag := []string{}
		if m[3] != "" {
			diag = append(diag, m[3])
		}
		for _, d := range lines[i+1:] {
			if strings.TrimSpace(d) == "" {
				break
			}
			diag = append(diag, strings.TrimSpace(d))
		}
		return recipient, strings.Join(diag, " ")
	}
	return genericRecipient(notice)
}

// exchangeRecipient reads the first address after "Delivery has failed to
// these recipients or groups:" and the remote server's answer from the
// administrators' section ("Remote Server returned '...'" or "#550 ... ##").
func exchangeRecipient(notice string) (string, string) {
	lines := strings.Split(notice, "\n")
	recipient, diag := "", ""
	for i, l := range lines {
		lower := strings.ToLower(l)
		if recipient == "" && strings.Contains(lower, "to these recipients or groups:") {
			if j := nextNonBlank(lines, i+1); j >= 0 {
				recipient = firstEmail(lines[j])
			}
		}
		if diag != "" {
			continue
		}
		if m := remoteSaid.FindStringSubmatch(l); m != nil {
			diag = strings.TrimSpace(m[1])
		} else if t := strings.TrimSpace(l); strings.HasPrefix(t, "#") && statusCode(t) != "" {
			diag = strings.TrimSpace(strings.Trim(t, "#"))
		}
	}
	if recipient == "" {
		recipient, _ = genericRecipient(notice)
	}
	return recipient, diag
}

// genericRecipient takes the address after sendmail's "----- The following
// addresses had ... errors -----", else the first "<addr>" line, else the
// first address in the notice; the diagnostic is the first line carrying a
// status code.
func genericRecipient(notice string) (string, string) {
	lines := strings.Split(notice, "\n")
	recipient := ""
	for i, l := range lines {
		if strings.Contains(l, "following addresses had") {
			if j := nextNonBlank(lines, i+1); j >= 0 {
				recipient = firstEmail(lines[j])
			}
			break
		}
	}
	for _, l := range lines {
		if recipient != "" {
			break
		}
		if m := anglePattern.FindStringSubmatch(strings.TrimSpace(l) + ":"); m != nil {
			recipient = m[1]
		}
	}
	if recipient == "" {
		recipient = firstEmail(notice)
	}
	diag := ""
	for _, l := range lines {
		if statusCode(l) != "" {
			diag = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(l), "(reason:"), ")"))
			break
		}
	}
	return recipient, diag
}

func nextNonBlank(lines []string, from int) int {
	for j := from; j < len(lines); j++ {
		if strings.TrimSpace(lines[j]) != "" {
			return j
		}
	}
	return -1
}

func indentOf(line string) int {
	return len(line) - len(strings.TrimLeft(line, " \t"))
}

func firstEmail(s string) string {
	return strings.Trim(emailPattern.FindString(s), ".")
}
