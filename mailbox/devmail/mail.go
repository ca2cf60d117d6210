package devmail

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	// Registers the common charsets so that ISO-8859-x, Windows-125x and
	// friends are decoded to UTF-8.
	_ "github.com/emersion/go-message/charset"
	gomail "github.com/emersion/go-message/mail"
)

// Mail is one captured message, decoded for display. Treat it as read-only:
// the Sink hands out copies that share their slices.
type Mail struct {
	ID           string
	ReceivedAt   time.Time
	EnvelopeFrom string
	EnvelopeTo   []string
	// From, To and Cc are the decoded header fields, with addresses written
	// as `Name <a@example.org>` (quoted when needed), so they parse again.
	From, To, Cc string
	Subject      string
	// MessageID and InReplyTo are without angle brackets.
	MessageID  string
	InReplyTo  string
	References []string
	Date       time.Time
	// Headers are all header fields in order, RFC 2047 decoded.
	Headers []Header
	// Text is the first text/plain part; for a mail that could not be
	// parsed it explains why.
	Text string
	// HTML is the first text/html part, unsanitised: the web layer must
	// sanitise it before display.
	HTML string
	Raw  []byte
}

// Header is one header field.
type Header struct{ Name, Value string }

// Header returns the first value of the named field (case-insensitive).
func (m Mail) Header(name string) (string, bool) {
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// newID returns a short random ID, unique enough for a dev inbox.
func newID() string {
	return strings.ToLower(rand.Text()[:10])
}

// maxPartBytes bounds what is kept of one text part.
const maxPartBytes = 1 << 20

// parseMail decodes raw. It never fails: whatever cannot be parsed is
// explained in Text, and Raw always holds the bytes.
func parseMail(raw []byte) Mail {
	m := Mail{Raw: raw}
	r, err := gomail.CreateReader(bytes.NewReader(raw))
	if r == nil {
		m.Text = fmt.Sprintf("devmail: could not parse this mail: %v", err)
		return m
	}
	var problems []string
	if err != nil {
		problems = append(problems, err.Error())
	}
	readHeader(&m, r.Header)

	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if p == nil {
			problems = append(problems, err.Error())
			break
		}
		if err != nil {
			problems = append(problems, err.Error())
		}
		h, ok := p.Header.(*gomail.InlineHeader)
		if !ok {
			continue
		}
		ct, _, _ := h.ContentType()
		if (ct == "text/plain" && m.Text != "") || (ct == "text/html" && m.HTML != "") ||
			(ct != "text/plain" && ct != "text/html") {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(p.Body, maxPartBytes))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s part: %v", ct, err))
		}
		if ct == "text/plain" {
			m.Text = string(b)
		} else {
			m.HTML = string(b)
		}
	}
	if len(problems) > 0 {
		note := "devmail: part of this mail could not be parsed: " + strings.Join(problems, "; ")
		m.Text = strings.TrimSpace(m.Text + "\n\n" + note)
	}
	return m
}

func readHeader(m *Mail, h gomail.Header) {
	fields := h.Fields()
	for fields.Next() {
		v, err := fields.Text()
		if err != nil {
			v = fields.Value()
		}
		m.Headers = append(m.Headers, Header{Name: fields.Key(), Value: v})
	}
	m.From = addressField(h, "From")
	m.To = addressField(h, "To")
	m.Cc = addressField(h, "Cc")
	m.Subject, _ = h.Subject()
	m.MessageID, _ = h.MessageID()
	if ids, _ := h.MsgIDList("In-Reply-To"); len(ids) > 0 {
		m.InReplyTo = ids[0]
	}
	m.References, _ = h.MsgIDList("References")
	m.Date, _ = h.Date()
}

// addressField formats an address list for display; if the field does not
// parse it falls back to the decoded text.
func addressField(h gomail.Header, key string) string {
	list, err := h.AddressList(key)
	if err != nil {
		v, _ := h.Text(key)
		return v
	}
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = formatAddress(a.Name, a.Address)
	}
	return strings.Join(out, ", ")
}

// formatAddress writes an address readably (no RFC 2047), quoting the name
// when it holds characters that would break parsing it again.
func formatAddress(name, addr string) string {
	if name == "" {
		return addr
	}
	if strings.ContainsAny(name, "()<>[]:;@\\,.\"") {
		name = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
	}
	return name + " <" + addr + ">"
}
