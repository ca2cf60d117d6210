package devmail

import (
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/recoverydesk/recoverydesk/mailbox"
)

// Outside is a mail written on the /dev/mail page as if someone outside had
// sent it to the support mailbox. From and To are bare addresses.
type Outside struct {
	FromName   string
	From       string
	To         string
	Subject    string
	Body       string
	InReplyTo  string
	References []string
}

// FieldError says which field of an Outside is wrong, so the form can show
// the message next to it.
type FieldError struct {
	Field   string // "From", "To", "Subject", "Body", ...
	Problem string
}

// Error returns e as "devmail: Field: problem".
func (e *FieldError) Error() string {
	return "devmail: " + e.Field + ": " + e.Problem
}

// Limits on what the form accepts.
const (
	maxSubjectLen = 255
	maxBodyBytes  = 1 << 20
)

// ComposeOutside validates o and composes it as a plain-text message dated
// now. A validation failure is a *FieldError.
func ComposeOutside(o Outside, now time.Time) ([]byte, error) {
	from, err := bareAddress("From", o.From)
	if err != nil {
		return nil, err
	}
	to, err := bareAddress("To", o.To)
	if err != nil {
		return nil, err
	}
	if strings.ContainsAny(o.FromName, "\r\n") {
		return nil, &FieldError{"FromName", "must be one line"}
	}
	if strings.ContainsAny(o.Subject, "\r\n") {
		return nil, &FieldError{"Subject", "must be one line"}
	}
	if len([]rune(o.Subject)) > maxSubjectLen {
		return nil, &FieldError{"Subject", fmt.Sprintf("is longer than %d characters", maxSubjectLen)}
	}
	if strings.TrimSpace(o.Body) == "" {
		return nil, &FieldError{"Body", "is empty"}
	}
	if len(o.Body) > maxBodyBytes {
		return nil, &FieldError{"Body", fmt.Sprintf("is larger than %d bytes", maxBodyBytes)}
	}
	raw, err := mailbox.Compose(mailbox.Outgoing{
		From:       mail.Address{Name: strings.TrimSpace(o.FromName), Address: from},
		To:         mail.Address{Address: to},
		Subject:    o.Subject,
		Text:       o.Body,
		InReplyTo:  strings.TrimSpace(o.InReplyTo),
		References: o.References,
		Date:       now,
	})
	if err != nil {
		return nil, fmt.Errorf("devmail: compose outside mail: %w", err)
	}
	return raw, nil
}

// bareAddress accepts "a@example.org" (surrounding spaces are trimmed).
func bareAddress(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", &FieldError{field, "is required"}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return "", &FieldError{field, fmt.Sprintf("%q is not an address like someone@example.org", s)}
	}
	return s, nil
}

// ReplyTo prefills the form with a reply to m, as its first recipient would
// write it: to m's Reply-To (or From), subject "Re: ...", threaded by
// In-Reply-To and References, the original quoted below.
func ReplyTo(m Mail) Outside {
	o := Outside{
		Subject:   replySubject(m.Subject),
		InReplyTo: m.MessageID,
	}
	if first := firstAddress(m.To); first != nil {
		o.FromName, o.From = first.Name, first.Address
	} else if len(m.EnvelopeTo) > 0 {
		o.From = m.EnvelopeTo[0]
	}
	replyTo, _ := m.Header("Reply-To")
	if a := firstAddress(replyTo); a != nil {
		o.To = a.Address
	} else if a := firstAddress(m.From); a != nil {
		o.To = a.Address
	} else {
		o.To = m.EnvelopeFrom
	}
	o.References = append([]string(nil), m.References...)
	if m.MessageID != "" {
		o.References = append(o.References, m.MessageID)
	}
	o.Body = "\n\n" + quote(m)
	return o
}

func replySubject(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 3 && strings.EqualFold(s[:3], "re:") {
		return s
	}
	return "Re: " + s
}

// firstAddress parses the first address of a formatted list such as Mail.To.
func firstAddress(list string) *mail.Address {
	if strings.TrimSpace(list) == "" {
		return nil
	}
	if l, err := mail.ParseAddressList(list); err == nil && len(l) > 0 {
		return l[0]
	}
	// Not parseable (odd display name): take what is between < and >.
	if i, j := strings.IndexByte(list, '<'), strings.IndexByte(list, '>'); i >= 0 && j > i+1 {
		return &mail.Address{Address: list[i+1 : j]}
	}
	return nil
}

// quote renders m's text the way mail clients quote the mail replied to.
func quote(m Mail) string {
	var b strings.Builder
	who := m.From
	if who == "" {
		who = m.EnvelopeFrom
	}
	if m.Date.IsZero() {
		fmt.Fprintf(&b, "%s wrote:\n", who)
	} else {
		fmt.Fprintf(&b, "On %s, %s wrote:\n", m.Date.Format("Mon, 2 Jan 2006 at 15:04"), who)
	}
	text := strings.TrimRight(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\n")
	for line := range strings.SplitSeq(text, "\n") {
		if line == "" || strings.HasPrefix(line, ">") {
			b.WriteString(">" + line + "\n")
		} else {
			b.WriteString("> " + line + "\n")
		}
	}
	return b.String()
}
