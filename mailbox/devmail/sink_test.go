package devmail

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/recoverydesk/recoverydesk/mailbox"
)

func startSink(t *testing.T, capacity int) (*Sink, *mailbox.Sender) {
	t.Helper()
	sink := NewSink(quietLogger(), capacity)
	addr, err := sink.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if sink.Addr() != addr {
		t.Fatalf("Addr() = %q, Start returned %q", sink.Addr(), addr)
	}
	t.Cleanup(func() {
		if err := sink.Close(); err != nil {
			t.Error(err)
		}
	})
	cfg, err := mailbox.SMTPConfigFromURL(sink.URL())
	if err != nil {
		t.Fatal(err)
	}
	return sink, mailbox.NewSender(cfg)
}

func send(t *testing.T, s *mailbox.Sender, raw string) {
	t.Helper()
	raw = strings.ReplaceAll(raw, "\n", "\r\n")
	if err := s.Send(context.Background(), "from@example.org", []string{"support@desk.test"}, []byte(raw)); err != nil {
		t.Fatal(err)
	}
}

func TestSinkKeepsNewestUpToCapacity(t *testing.T) {
	sink, s := startSink(t, 3)
	for i := 1; i <= 5; i++ {
		send(t, s, fmt.Sprintf("Subject: mail %d\n\nbody %d\n", i, i))
	}
	var subjects []string
	for _, m := range sink.List() {
		subjects = append(subjects, m.Subject)
	}
	if got := strings.Join(subjects, ","); got != "mail 5,mail 4,mail 3" {
		t.Fatalf("List() subjects = %s", got)
	}
	if _, ok := sink.Get("no-such-id"); ok {
		t.Error("Get of an unknown ID succeeded")
	}
}

func TestSinkConcurrentSends(t *testing.T) {
	sink, s := startSink(t, 100)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() {
			raw := fmt.Sprintf("Subject: %d\r\n\r\nx\r\n", i)
			errs <- s.Send(context.Background(), "", []string{"support@desk.test"}, []byte(raw))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ids := map[string]bool{}
	for _, m := range sink.List() {
		ids[m.ID] = true
		if m.EnvelopeFrom != "" {
			t.Errorf("null return path captured as %q", m.EnvelopeFrom)
		}
	}
	if len(ids) != 20 {
		t.Fatalf("%d distinct mails captured, want 20", len(ids))
	}
}

func TestSinkDecodesCharsets(t *testing.T) {
	sink, s := startSink(t, 10)
	send(t, s, `From: =?ISO-8859-1?Q?Andr=E9_Dupont?= <andre@example.org>
To: "Support, Desk" <support@desk.test>, other@example.org
Subject: =?ISO-8859-1?Q?caf=E9?= and =?UTF-8?B?0J/RgNC40LLQtdGC?=
Message-ID: <m1@example.org>
In-Reply-To: <ack@desk.test>
References: <a@x> <ack@desk.test>
Date: Tue, 3 Jun 2025 10:00:00 +0200
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary=b

--b
Content-Type: text/plain; charset=ISO-8859-1
Content-Transfer-Encoding: quoted-printable

caf=E9 cr=E8me
--b
Content-Type: text/html; charset=windows-1252
Content-Transfer-Encoding: quoted-printable

<p>=80 5</p><script>alert(1)</script>
--b--
`)
	m := sink.List()[0]
	checks := map[string][2]string{
		"From":      {m.From, "André Dupont <andre@example.org>"},
		"To":        {m.To, `"Support, Desk" <support@desk.test>, other@example.org`},
		"Subject":   {m.Subject, "café and Привет"},
		"MessageID": {m.MessageID, "m1@example.org"},
		"InReplyTo": {m.InReplyTo, "ack@desk.test"},
		"Refs":      {strings.Join(m.References, " "), "a@x ack@desk.test"},
		"Text":      {m.Text, "café crème"},
		"HTML":      {m.HTML, "<p>€ 5</p><script>alert(1)</script>"},
		"Date":      {m.Date.UTC().Format("2006-01-02 15:04"), "2025-06-03 08:00"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	if v, ok := m.Header("subject"); !ok || v != "café and Привет" {
		t.Errorf("Header(subject) = %q, %v", v, ok)
	}
	if len(m.Headers) != 9 || m.Headers[0].Name != "From" {
		t.Errorf("Headers = %v", m.Headers)
	}
}

func TestSinkCapturesUnparseableMail(t *testing.T) {
	sink, s := startSink(t, 10)
	raw := "this line is not a header\n\nbody\n"
	send(t, s, raw)
	m := sink.List()[0]
	if !strings.Contains(m.Text, "could not parse") {
		t.Errorf("Text = %q, want an explanation", m.Text)
	}
	if string(m.Raw) != strings.ReplaceAll(raw, "\n", "\r\n") {
		t.Errorf("Raw = %q", m.Raw)
	}

	send(t, s, "Subject: odd charset\nContent-Type: text/plain; charset=x-klingon\n\nqapla'\n")
	m = sink.List()[0]
	if m.Subject != "odd charset" || !strings.Contains(m.Text, "qapla'") || !strings.Contains(m.Text, "x-klingon") {
		t.Errorf("unknown charset mail: Subject %q, Text %q", m.Subject, m.Text)
	}
}

func TestSinkCloseStopsServing(t *testing.T) {
	sink, s := startSink(t, 10)
	send(t, s, "Subject: before\n\nx\n")
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	err := s.Send(context.Background(), "", []string{"support@desk.test"}, []byte("Subject: after\r\n\r\nx\r\n"))
	if err == nil {
		t.Fatal("Send succeeded after Close")
	}
	if got := sink.List(); len(got) != 1 || got[0].Subject != "before" {
		t.Errorf("mails after Close = %v", got)
	}
}

// Close right after Start must not wait for a serve goroutine that has not
// registered its listener yet.
func TestSinkAndMailboxCloseRightAfterStart(t *testing.T) {
	for range 50 {
		s := NewSink(quietLogger(), 10)
		if _, err := s.Start("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		m := NewMailbox(quietLogger(), "u", "p")
		if _, err := m.Start("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
