package mailbox

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"sort"
	"strings"
	"time"

	gomail "github.com/emersion/go-message/mail"
)

// Outgoing is a message to compose. From and To are required; Text is the
// plain-text body and is required too, HTML is an optional alternative.
type Outgoing struct {
	From mail.Address
	To   mail.Address
	Cc   []mail.Address
	// Subject may hold any Unicode; line breaks are folded into spaces.
	Subject string
	Text    string
	// HTML, when set, makes the message multipart/alternative with Text
	// first, so clients that cannot show HTML still show the text.
	HTML string
	// MessageID is written without angle brackets; when empty one is
	// generated with NewMessageID for the domain of From.
	MessageID string
	// InReplyTo and References are message IDs without angle brackets.
	InReplyTo  string
	References []string
	// Date defaults to the current time.
	Date time.Time
	// Headers are extra header fields, e.g. Auto-Submitted. They may not
	// replace a field that Compose writes itself (From, Subject, ...).
	Headers map[string]string
}

// composedHeaders are the fields Compose owns; Outgoing.Headers may not set
// them, so a caller cannot produce a message with two Subjects.
var composedHeaders = map[string]bool{
	"from": true, "to": true, "cc": true, "bcc": true, "subject": true,
	"date": true, "message-id": true, "in-reply-to": true, "references": true,
	"mime-version": true, "content-type": true, "content-transfer-encoding": true,
	"content-disposition": true,
}

// Compose renders o as an RFC 5322 message with CRLF line endings, ready to
// be handed to Sender.Send. The text parts are UTF-8 quoted-printable and
// non-ASCII header text is RFC 2047 encoded.
func Compose(o Outgoing) ([]byte, error) {
	h, err := composeHeader(o)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(o.Text) == "" {
		return nil, errors.New("mailbox: compose: Text: the plain-text body is empty")
	}

	var buf bytes.Buffer
	if o.HTML == "" {
		h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
		w, err := gomail.CreateSingleInlineWriter(&buf, h)
		if err != nil {
			return nil, fmt.Errorf("mailbox: compose: %w", err)
		}
		if err := writeAndClose(w, o.Text); err != nil {
			return nil, fmt.Errorf("mailbox: compose: text body: %w", err)
		}
		return buf.Bytes(), nil
	}

	w, err := gomail.CreateInlineWriter(&buf, h)
	if err != nil {
		return nil, fmt.Errorf("mailbox: compose: %w", err)
	}
	for _, p := range []struct{ typ, body string }{{"text/plain", o.Text}, {"text/html", o.HTML}} {
		var ph gomail.InlineHeader
		ph.SetContentType(p.typ, map[string]string{"charset": "utf-8"})
		pw, err := w.CreatePart(ph)
		if err != nil {
			return nil, fmt.Errorf("mailbox: compose: %s part: %w", p.typ, err)
		}
		if err := writeAndClose(pw, p.body); err != nil {
			return nil, fmt.Errorf("mailbox: compose: %s part: %w", p.typ, err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("mailbox: compose: %w", err)
	}
	return buf.Bytes(), nil
}

// composeHeader validates o and builds its header. go-message inserts each
// new field at the top, so fields are added in reverse reading order.
func composeHeader(o Outgoing) (gomail.Header, error) {
	var h gomail.Header
	h.Set("MIME-Version", "1.0")

	names := make([]string, 0, len(o.Headers))
	for name := range o.Headers {
		names = append(names, name)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	for _, name := range names {
		value := o.Headers[name]
		if err := checkExtraHeader(name, value); err != nil {
			return h, err
		}
		h.SetText(name, value)
	}

	for _, id := range o.References {
		if err := checkMsgID(id); err != nil {
			return h, fmt.Errorf("mailbox: compose: References: %w", err)
		}
	}
	h.SetMsgIDList("References", o.References)
	if o.InReplyTo != "" {
		if err := checkMsgID(o.InReplyTo); err != nil {
			return h, fmt.Errorf("mailbox: compose: InReplyTo: %w", err)
		}
		h.SetMsgIDList("In-Reply-To", []string{o.InReplyTo})
	}

	if err := checkAddress(o.From); err != nil {
		return h, fmt.Errorf("mailbox: compose: From: %w", err)
	}
	id := o.MessageID
	if id == "" {
		id = NewMessageID(domainOf(o.From.Address))
	} else if err := checkMsgID(id); err != nil {
		return h, fmt.Errorf("mailbox: compose: MessageID: %w", err)
	}
	h.SetMessageID(id)

	h.SetSubject(lineBreaks.Replace(o.Subject))

	for i, a := range o.Cc {
		if err := checkAddress(a); err != nil {
			return h, fmt.Errorf("mailbox: compose: Cc[%d]: %w", i, err)
		}
	}
	h.SetAddressList("Cc", addressPointers(o.Cc))
	if err := checkAddress(o.To); err != nil {
		return h, fmt.Errorf("mailbox: compose: To: %w", err)
	}
	h.SetAddressList("To", []*gomail.Address{&o.To})
	h.SetAddressList("From", []*gomail.Address{&o.From})

	date := o.Date
	if date.IsZero() {
		date = time.Now()
	}
	h.SetDate(date)
	return h, nil
}

// NewMessageID returns a new random message ID (128 bits of randomness)
// for domain, without angle brackets, e.g. "k3f9...@example.org".
func NewMessageID(domain string) string {
	if domain == "" {
		domain = "localhost"
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics instead)
	enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
	return strings.ToLower(enc) + "@" + domain
}

// lineBreaks folds a subject onto one line; a subject copied from a
// decoded incoming header can contain them.
var lineBreaks = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ")

func writeAndClose(w io.WriteCloser, s string) error {
	if _, err := io.WriteString(w, s); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

func addressPointers(l []mail.Address) []*gomail.Address {
	out := make([]*gomail.Address, len(l))
	for i := range l {
		out[i] = &l[i]
	}
	return out
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}

// checkAddress accepts a bare addr-spec such as "a@example.org"; the display
// name may be anything, net/mail quotes or encodes it.
func checkAddress(a mail.Address) error {
	if a.Address == "" {
		return errors.New("address is empty")
	}
	p, err := mail.ParseAddress(a.Address)
	if err != nil || p.Address != a.Address || p.Name != "" {
		return fmt.Errorf("%q is not an address like someone@example.org", a.Address)
	}
	return nil
}

// checkMsgID rejects IDs that would break the header: brackets, spaces and
// line breaks. It does not insist on RFC 5322's exact grammar because we
// echo IDs from other people's mail, which is not always conforming.
func checkMsgID(id string) error {
	if id == "" {
		return errors.New("message ID is empty")
	}
	if strings.ContainsAny(id, "<> \t\r\n") {
		return fmt.Errorf("message ID %q must not contain angle brackets or whitespace", id)
	}
	return nil
}

func checkExtraHeader(name, value string) error {
	if name == "" {
		return errors.New("mailbox: compose: Headers: empty field name")
	}
	for _, r := range name {
		if r <= ' ' || r > '~' || r == ':' {
			return fmt.Errorf("mailbox: compose: Headers: invalid field name %q", name)
		}
	}
	if composedHeaders[strings.ToLower(name)] {
		return fmt.Errorf("mailbox: compose: Headers: %s is set by Compose from its own field", name)
	}
	if strings.ContainsAny(value, "\r\n") {
		return fmt.Errorf("mailbox: compose: Headers: %s: value contains a line break", name)
	}
	return nil
}
