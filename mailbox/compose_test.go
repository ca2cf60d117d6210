package mailbox

import (
	"bytes"
	"io"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"
)

// parsed is what a receiving client would see of a composed message.
type parsed struct {
	header gomail.Header
	parts  map[string]string // content type -> decoded body
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	r, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse composed message: %v\n%s", err, raw)
	}
	p := parsed{header: r.Header, parts: map[string]string{}}
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		ct, _, _ := part.Header.(*gomail.InlineHeader).ContentType()
		b, err := io.ReadAll(part.Body)
		if err != nil {
			t.Fatalf("read %s: %v", ct, err)
		}
		p.parts[ct] = string(b)
	}
	return p
}

func assertCRLF(t *testing.T, raw []byte) {
	t.Helper()
	if bare := regexp.MustCompile(`(^|[^\r])\n`).FindIndex(raw); bare != nil {
		t.Fatalf("bare LF at byte %d in:\n%s", bare[0], raw)
	}
	if !bytes.Contains(raw, []byte("\r\n\r\n")) {
		t.Fatalf("no CRLF CRLF between header and body:\n%s", raw)
	}
}

func TestComposePlainRoundTrip(t *testing.T) {
	date := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	text := "Grüße,\nyour case RD-7K3F9Q is open.\r\n" + strings.Repeat("long line ", 20) + "\n"
	raw, err := Compose(Outgoing{
		From:       mail.Address{Name: "Récupération Desk", Address: "support@desk.test"},
		To:         mail.Address{Name: "Zoë", Address: "zoe@example.org"},
		Cc:         []mail.Address{{Address: "a@example.org"}, {Name: "B, Jr.", Address: "b@example.org"}},
		Subject:    "Ваш запрос [RD-7K3F9Q] — received\nsecond line",
		Text:       text,
		MessageID:  "abc.123@desk.test",
		InReplyTo:  "orig@mail.example.org",
		References: []string{"first@x", "orig@mail.example.org"},
		Date:       date,
		Headers:    map[string]string{"Auto-Submitted": "auto-replied", "X-Case": "RD-7K3F9Q"},
	})
	if err != nil {
		t.Fatal(err)
	}
	assertCRLF(t, raw)
	for _, line := range strings.Split(string(raw[:bytes.Index(raw, []byte("\r\n\r\n"))]), "\r\n") {
		for _, r := range line {
			if r > '~' {
				t.Fatalf("non-ASCII in header line %q", line)
			}
		}
	}

	p := parse(t, raw)
	h := p.header
	if got, _ := h.Subject(); got != "Ваш запрос [RD-7K3F9Q] — received second line" {
		t.Errorf("Subject = %q", got)
	}
	if got, _ := h.AddressList("From"); len(got) != 1 || got[0].Name != "Récupération Desk" || got[0].Address != "support@desk.test" {
		t.Errorf("From = %v", got)
	}
	if got, _ := h.AddressList("To"); len(got) != 1 || got[0].Name != "Zoë" || got[0].Address != "zoe@example.org" {
		t.Errorf("To = %v", got)
	}
	if got, _ := h.AddressList("Cc"); len(got) != 2 || got[1].Name != "B, Jr." {
		t.Errorf("Cc = %v", got)
	}
	if got, _ := h.MessageID(); got != "abc.123@desk.test" {
		t.Errorf("Message-ID = %q", got)
	}
	if got, _ := h.MsgIDList("In-Reply-To"); len(got) != 1 || got[0] != "orig@mail.example.org" {
		t.Errorf("In-Reply-To = %q", got)
	}
	if got, _ := h.MsgIDList("References"); strings.Join(got, " ") != "first@x orig@mail.example.org" {
		t.Errorf("References = %q", got)
	}
	if got, _ := h.Date(); !got.Equal(date) {
		t.Errorf("Date = %v, want %v", got, date)
	}
	if h.Get("Auto-Submitted") != "auto-replied" || h.Get("X-Case") != "RD-7K3F9Q" {
		t.Errorf("extra headers missing: %v", h.Header.Map())
	}
	if ct, params, _ := h.ContentType(); ct != "text/plain" || params["charset"] != "utf-8" {
		t.Errorf("Content-Type = %s %v", ct, params)
	}
	if h.Get("Content-Transfer-Encoding") != "quoted-printable" {
		t.Errorf("Content-Transfer-Encoding = %q", h.Get("Content-Transfer-Encoding"))
	}
	want := strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\n", "\r\n")
	if got := p.parts["text/plain"]; got != want {
		t.Errorf("text body = %q, want %q", got, want)
	}
}

func TestComposeAlternative(t *testing.T) {
	raw, err := Compose(Outgoing{
		From:    mail.Address{Address: "support@desk.test"},
		To:      mail.Address{Address: "zoe@example.org"},
		Subject: "Hello",
		Text:    "Plain ✓",
		HTML:    "<p>HTML ✓</p>",
	})
	if err != nil {
		t.Fatal(err)
	}
	assertCRLF(t, raw)
	p := parse(t, raw)
	if ct, _, _ := p.header.ContentType(); ct != "multipart/alternative" {
		t.Fatalf("Content-Type = %q", ct)
	}
	if p.parts["text/plain"] != "Plain ✓" || p.parts["text/html"] != "<p>HTML ✓</p>" {
		t.Errorf("parts = %q", p.parts)
	}
	// Text must come first: clients show the last alternative they can.
	if bytes.Index(raw, []byte("text/plain")) > bytes.Index(raw, []byte("text/html")) {
		t.Error("text/html part comes before text/plain")
	}
	id, _ := p.header.MessageID()
	if !regexp.MustCompile(`^[a-z2-7]{26}@desk\.test$`).MatchString(id) {
		t.Errorf("generated Message-ID = %q", id)
	}
	if d, _ := p.header.Date(); time.Since(d) > time.Minute {
		t.Errorf("default Date = %v", d)
	}
}

func TestComposeRejects(t *testing.T) {
	ok := Outgoing{
		From: mail.Address{Address: "support@desk.test"},
		To:   mail.Address{Address: "zoe@example.org"},
		Text: "body",
	}
	tests := []struct {
		name   string
		modify func(*Outgoing)
		want   string
	}{
		{"no from", func(o *Outgoing) { o.From = mail.Address{} }, "From: address is empty"},
		{"bad to", func(o *Outgoing) { o.To.Address = "zoe at example" }, "To:"},
		{"to with name inside", func(o *Outgoing) { o.To.Address = "Zoe <zoe@example.org>" }, "To:"},
		{"bad cc", func(o *Outgoing) { o.Cc = []mail.Address{{Address: "x"}} }, "Cc[0]:"},
		{"empty text", func(o *Outgoing) { o.Text = " \n" }, "Text:"},
		{"bracketed id", func(o *Outgoing) { o.MessageID = "<a@b>" }, "MessageID:"},
		{"bad in-reply-to", func(o *Outgoing) { o.InReplyTo = "a@b\r\nBcc: x@y" }, "InReplyTo:"},
		{"bad reference", func(o *Outgoing) { o.References = []string{"ok@x", ""} }, "References:"},
		{"header override", func(o *Outgoing) { o.Headers = map[string]string{"subject": "x"} }, "subject is set by Compose"},
		{"header injection", func(o *Outgoing) { o.Headers = map[string]string{"X-A": "1\r\nBcc: x@y"} }, "line break"},
		{"header name", func(o *Outgoing) { o.Headers = map[string]string{"X A": "1"} }, "invalid field name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.modify(&o)
			_, err := Compose(o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	if _, err := Compose(ok); err != nil {
		t.Fatalf("baseline: %v", err)
	}
}

func TestNewMessageIDUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewMessageID("desk.test")
		if seen[id] {
			t.Fatalf("duplicate %s", id)
		}
		seen[id] = true
	}
	if got := NewMessageID(""); !strings.HasSuffix(got, "@localhost") {
		t.Errorf("NewMessageID(\"\") = %q", got)
	}
}
