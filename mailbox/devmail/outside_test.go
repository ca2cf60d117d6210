package devmail

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"
)

func TestComposeOutside(t *testing.T) {
	now := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	raw, err := ComposeOutside(Outside{
		FromName: "Zoë", From: " zoe@example.org ", To: "support@desk.test",
		Subject: "Locked out", Body: "I lost my phone.",
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	r, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	from, _ := r.Header.AddressList("From")
	date, _ := r.Header.Date()
	id, _ := r.Header.MessageID()
	if len(from) != 1 || from[0].Name != "Zoë" || from[0].Address != "zoe@example.org" {
		t.Errorf("From = %v", from)
	}
	if !date.Equal(now) {
		t.Errorf("Date = %v", date)
	}
	if !strings.HasSuffix(id, "@example.org") {
		t.Errorf("Message-ID %q is not in the sender's domain", id)
	}
	if r.Header.Has("In-Reply-To") || r.Header.Has("References") {
		t.Error("a new mail carries threading headers")
	}

	valid := Outside{From: "zoe@example.org", To: "support@desk.test", Subject: "s", Body: "b"}
	tests := []struct {
		name   string
		modify func(*Outside)
		field  string
	}{
		{"missing from", func(o *Outside) { o.From = "" }, "From"},
		{"from with name", func(o *Outside) { o.From = "Zoë <zoe@example.org>" }, "From"},
		{"bad to", func(o *Outside) { o.To = "support" }, "To"},
		{"two-line name", func(o *Outside) { o.FromName = "a\nBcc: x@y" }, "FromName"},
		{"two-line subject", func(o *Outside) { o.Subject = "a\r\nb" }, "Subject"},
		{"long subject", func(o *Outside) { o.Subject = strings.Repeat("é", 256) }, "Subject"},
		{"blank body", func(o *Outside) { o.Body = " \n\t" }, "Body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := valid
			tt.modify(&o)
			_, err := ComposeOutside(o, now)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("err = %v, want a FieldError for %s", err, tt.field)
			}
			if !strings.Contains(err.Error(), tt.field+":") {
				t.Errorf("message %q does not name the field", err)
			}
		})
	}
	if _, err := ComposeOutside(valid, now); err != nil {
		t.Fatalf("baseline: %v", err)
	}
	// An empty subject is allowed: real mail arrives without one.
	noSubject := valid
	noSubject.Subject = ""
	if _, err := ComposeOutside(noSubject, now); err != nil {
		t.Errorf("empty subject: %v", err)
	}
}

func TestReplyTo(t *testing.T) {
	date := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		mail Mail
		want Outside
	}{
		{
			name: "acknowledgement",
			mail: Mail{
				From: "Recovery Desk <support@desk.test>", To: "Zoë <zoe@example.org>, other@example.org",
				EnvelopeTo: []string{"zoe@example.org"}, Subject: "[RD-7K3F9Q] We received your request",
				MessageID: "ack.1@desk.test", References: []string{"orig@example.org"},
			},
			want: Outside{
				FromName: "Zoë", From: "zoe@example.org", To: "support@desk.test",
				Subject: "Re: [RD-7K3F9Q] We received your request", InReplyTo: "ack.1@desk.test",
				References: []string{"orig@example.org", "ack.1@desk.test"},
			},
		},
		{
			name: "already a reply, quoted name with comma",
			mail: Mail{
				From: `"Desk, Support" <support@desk.test>`, To: `"Müller, Zoë" <zoe@example.org>`,
				Subject: "RE: help", MessageID: "m2@desk.test",
			},
			want: Outside{
				FromName: "Müller, Zoë", From: "zoe@example.org", To: "support@desk.test",
				Subject: "RE: help", InReplyTo: "m2@desk.test", References: []string{"m2@desk.test"},
			},
		},
		{
			name: "reply-to header wins over from",
			mail: Mail{
				From: "noreply@desk.test", To: "zoe@example.org", Subject: "Case update",
				Headers:   []Header{{"Reply-To", "Support <support@desk.test>"}},
				MessageID: "m3@desk.test",
			},
			want: Outside{
				From: "zoe@example.org", To: "support@desk.test", Subject: "Re: Case update",
				InReplyTo: "m3@desk.test", References: []string{"m3@desk.test"},
			},
		},
		{
			name: "unparsed mail falls back to the envelope",
			mail: Mail{EnvelopeFrom: "bounce@desk.test", EnvelopeTo: []string{"zoe@example.org"}},
			want: Outside{From: "zoe@example.org", To: "bounce@desk.test", Subject: "Re: "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.mail.Text = "line one\r\n> older\r\n\r\nline three\r\n"
			tt.mail.Date = date
			got := ReplyTo(tt.mail)
			body := got.Body
			got.Body = ""
			if got.FromName != tt.want.FromName || got.From != tt.want.From || got.To != tt.want.To ||
				got.Subject != tt.want.Subject || got.InReplyTo != tt.want.InReplyTo ||
				!slices.Equal(got.References, tt.want.References) {
				t.Errorf("ReplyTo() =\n %+v\nwant\n %+v", got, tt.want)
			}
			wantQuote := "> line one\n>> older\n>\n> line three\n"
			if !strings.HasPrefix(body, "\n\nOn Sun, 1 Jun 2025 at 10:00, ") || !strings.HasSuffix(body, " wrote:\n"+wantQuote) {
				t.Errorf("Body = %q", body)
			}
		})
	}

	// The prefilled reply must be sendable as is.
	m := tests[0].mail
	if _, err := ComposeOutside(ReplyTo(m), date); err != nil {
		t.Errorf("ComposeOutside(ReplyTo(m)): %v", err)
	}
	// ReplyTo must not write into the captured mail's References.
	refs := make([]string, 1, 4)
	refs[0] = "a@x"
	_ = ReplyTo(Mail{References: refs, MessageID: "b@x"})
	if refs[:2][1] != "" {
		t.Error("ReplyTo appended into the captured mail's References array")
	}
}
