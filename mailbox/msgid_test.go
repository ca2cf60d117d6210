package mailbox_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/recoverydesk/recoverydesk/mailbox"
)

var (
	testSecret  = []byte("0123456789abcdef0123456789abcdef-test-secret")
	otherSecret = []byte("fedcba9876543210fedcba9876543210-other-secret")
)

func newSigner(t testing.TB, secret []byte, domain string) *mailbox.MessageIDSigner {
	t.Helper()
	s, err := mailbox.NewMessageIDSigner(secret, domain)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewMessageIDSignerRejects(t *testing.T) {
	if _, err := mailbox.NewMessageIDSigner([]byte("short"), "example.org"); err == nil {
		t.Error("a 5-byte secret was accepted")
	}
	for _, d := range []string{"", " ", "a@b.org", "exa mple.org", "<example.org>"} {
		if _, err := mailbox.NewMessageIDSigner(testSecret, d); err == nil {
			t.Errorf("domain %q was accepted", d)
		}
	}
}

func TestMessageIDRoundTrip(t *testing.T) {
	s := newSigner(t, testSecret, "Support.Example.org")
	shape := regexp.MustCompile(`^rd\.rd-7k3f9q\.[a-z2-7]{16}\.[a-z2-7]{16}@support\.example\.org$`)
	seen := map[string]bool{}
	for range 100 {
		id := s.New("RD-7K3F9Q")
		if !shape.MatchString(id) {
			t.Fatalf("New = %q, not of the documented shape", id)
		}
		seen[id] = true
		for _, form := range []string{id, "<" + id + ">", " <" + id + "> ", strings.ToUpper(id)} {
			ref, ok := s.Verify(form)
			if !ok || ref != "RD-7K3F9Q" {
				t.Fatalf("Verify(%q) = %q, %v; want RD-7K3F9Q, true", form, ref, ok)
			}
		}
	}
	if len(seen) != 100 {
		t.Fatalf("%d distinct IDs in 100", len(seen))
	}
}

func TestMessageIDForgeries(t *testing.T) {
	s := newSigner(t, testSecret, "support.example.org")
	id := s.New("RD-7K3F9Q")
	local, domain, _ := strings.Cut(id, "@")
	parts := strings.Split(local, ".")
	flip := func(p string) string { // change the last letter of a token
		last := p[len(p)-1]
		repl := byte('a')
		if last == 'a' {
			repl = 'b'
		}
		return p[:len(p)-1] + string(repl)
	}
	forged := map[string]string{
		"other case ref":    "rd.rd-222222." + parts[2] + "." + parts[3] + "@" + domain,
		"altered random":    "rd." + parts[1] + "." + flip(parts[2]) + "." + parts[3] + "@" + domain,
		"altered tag":       "rd." + parts[1] + "." + parts[2] + "." + flip(parts[3]) + "@" + domain,
		"other domain":      local + "@evil.example.net",
		"no domain":         local,
		"other secret":      newSigner(t, otherSecret, "support.example.org").New("RD-7K3F9Q"),
		"short tag":         "rd." + parts[1] + "." + parts[2] + "." + parts[3][:15] + "@" + domain,
		"extra part":        "rd.x." + parts[1] + "." + parts[2] + "." + parts[3] + "@" + domain,
		"plain random ID":   mailbox.NewMessageID("support.example.org"),
		"empty":             "",
		"forged all zeroes": "rd.rd-7k3f9q.aaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaa@support.example.org",
	}
	for name, f := range forged {
		if ref, ok := s.Verify(f); ok {
			t.Errorf("%s: Verify(%q) = %q, true; want false", name, f, ref)
		}
	}
}

func TestMessageIDNewPanicsOnBadRef(t *testing.T) {
	s := newSigner(t, testSecret, "example.org")
	for _, ref := range []string{"", "RD 7K3F9Q", "RD.7K3F9Q", "RD-7K3F9Q@x", strings.Repeat("A", 33)} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%q) did not panic", ref)
				}
			}()
			s.New(ref)
		}()
	}
}

func TestMarkerRoundTrip(t *testing.T) {
	s := newSigner(t, testSecret, "example.org")
	m := s.Marker("rd-7k3f9q")
	if !regexp.MustCompile(`^\[ref:RD-7K3F9Q:[a-z2-7]{16}\]$`).MatchString(m) {
		t.Fatalf("Marker = %q, not of the documented shape", m)
	}
	if again := s.Marker("RD-7K3F9Q"); again != m {
		t.Fatalf("Marker is not stable: %q then %q", m, again)
	}
	bodies := []string{
		m,
		"Thanks, here is my ID.\n\n-- reply above this line --\n" + m + "\n",
		"Thanks.\n\nOn Mon, support wrote:\n> Hello\n> " + m + "\n",
		"case " + strings.ToUpper(m) + " shouted by a client",
	}
	for _, b := range bodies {
		ref, ok := s.FindMarker(b)
		if !ok || ref != "RD-7K3F9Q" {
			t.Errorf("FindMarker(%q) = %q, %v; want RD-7K3F9Q, true", b, ref, ok)
		}
	}
}

func TestMarkerForgeries(t *testing.T) {
	s := newSigner(t, testSecret, "example.org")
	real := s.Marker("RD-7K3F9Q")
	tagOf := func(m string) string { return m[strings.LastIndexByte(m, ':')+1 : len(m)-1] }
	bodies := map[string]string{
		"other case, stolen tag": "[ref:RD-222222:" + tagOf(real) + "]",
		"made-up tag":            "[ref:RD-7K3F9Q:aaaaaaaaaaaaaaaa]",
		"other secret":           newSigner(t, otherSecret, "example.org").Marker("RD-7K3F9Q"),
		"ID tag as marker":       "[ref:RD-7K3F9Q:" + strings.Split(s.New("RD-7K3F9Q"), ".")[3][:16] + "]",
		"truncated":              real[:len(real)-2] + "]",
		"no marker":              "Hello, I lost my phone.",
	}
	for name, b := range bodies {
		if ref, ok := s.FindMarker(b); ok {
			t.Errorf("%s: FindMarker(%q) = %q, true; want false", name, b, ref)
		}
	}
}

func TestMarkerFirstValidWins(t *testing.T) {
	s := newSigner(t, testSecret, "example.org")
	body := "[ref:RD-7K3F9Q:aaaaaaaaaaaaaaaa] forged first\n" + s.Marker("RD-AAAAAA") + "\n> " + s.Marker("RD-BBBBBB")
	if ref, ok := s.FindMarker(body); !ok || ref != "RD-AAAAAA" {
		t.Fatalf("FindMarker = %q, %v; want the first valid one, RD-AAAAAA", ref, ok)
	}
}

func TestDerivedMessageID(t *testing.T) {
	header := "From: Ann <ann@example.org>\r\nTo: support@example.org\r\nSubject: Lost\r\n my phone\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000\r\nContent-Type: text/plain\r\n"
	msg := []byte(header + "\r\nHello\r\n")
	id := mailbox.DerivedMessageID(msg, "ann@example.org", "2026-03-02T10:00:00Z", "Lost my phone")
	if !regexp.MustCompile(`^derived\.[0-9a-f]{32}@recoverydesk\.invalid$`).MatchString(id) {
		t.Fatalf("DerivedMessageID = %q, not of the documented shape", id)
	}
	same := map[string][]byte{
		"again":                   msg,
		"LF line endings":         []byte(strings.ReplaceAll(string(msg), "\r\n", "\n")),
		"other route (Received)":  []byte("Received: from mx2 by mx1; Mon, 2 Mar 2026 10:00:05 +0000\r\n\tid 42\r\nReturn-Path: <ann@example.org>\r\nDelivered-To: support@example.org\r\n" + string(msg)),
		"mbox store fields":       []byte(header + "Status: RO\r\nX-UID: 17\r\n\r\nHello\r\n"),
		"body changed in transit": []byte(header + "\r\nHello\r\n--\r\nSent via a list\r\n"),
	}
	for name, raw := range same {
		if got := mailbox.DerivedMessageID(raw, "ann@example.org", "2026-03-02T10:00:00Z", "Lost my phone"); got != id {
			t.Errorf("%s: got %q, want %q (same message)", name, got, id)
		}
	}
	other := map[string][]byte{
		"other date": []byte(strings.Replace(string(msg), "10:00:00", "10:00:01", 1)),
		"other to":   []byte(strings.Replace(string(msg), "To: support", "To: help", 1)),
		"no header":  []byte("\r\nHello\r\n"),
	}
	for name, raw := range other {
		if got := mailbox.DerivedMessageID(raw, "ann@example.org", "2026-03-02T10:00:00Z", "Lost my phone"); got == id {
			t.Errorf("%s: got the same ID %q for a different message", name, got)
		}
	}
	if a, b := mailbox.DerivedMessageID(nil, "a@x", "d", "s"), mailbox.DerivedMessageID(nil, "a@x", "d", "t"); a == b {
		t.Error("without raw bytes, a different subject gave the same ID")
	}
	if a, b := mailbox.DerivedMessageID(nil, "ab", "", ""), mailbox.DerivedMessageID(nil, "a", "b", ""); a == b {
		t.Error("fields are not separated: (ab, '') and (a, b) hash the same")
	}
}

func FuzzVerifyMessageID(f *testing.F) {
	s := newSigner(f, testSecret, "support.example.org")
	id := s.New("RD-7K3F9Q")
	for _, seed := range []string{
		id, "<" + id + ">", strings.ToUpper(id), id[:len(id)-3],
		s.Marker("RD-7K3F9Q"),
		"rd.rd-7k3f9q.aaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaa@support.example.org",
		"rd....@support.example.org", "@", "", "<>", "rd.\x00.\xff.x@support.example.org",
	} {
		f.Add(seed)
	}
	genuine := regexp.MustCompile(`^rd\.rd-7k3f9q\.[a-z2-7]{16}\.[a-z2-7]{16}@support\.example\.org$`)
	f.Fuzz(func(t *testing.T, in string) {
		ref, ok := s.Verify(in)
		if ok {
			// Only IDs New made (in this or another fuzz worker, up to case
			// and brackets) may verify, and New only made ones for RD-7K3F9Q.
			norm := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(in), "<"), ">"))
			if !genuine.MatchString(norm) || ref != "RD-7K3F9Q" {
				t.Fatalf("Verify(%q) = %q, true; a forgery passed", in, ref)
			}
		}
		if r, ok := s.FindMarker(in); ok && r != "RD-7K3F9Q" {
			t.Fatalf("FindMarker(%q) = %q, true; a forged marker passed", in, r)
		}
	})
}
