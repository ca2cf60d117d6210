package main_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/recoverydesk/recoverydesk/mailbox/devmail"
)

// checkServers starts the in-process IMAP mailbox (with one message) and
// SMTP sink on loopback and returns IMAP_URL and SMTP_URL for them.
func checkServers(t *testing.T) (imapURL, smtpURL string) {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	mb := devmail.NewMailbox(log, "support", "s3cret")
	if _, err := mb.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mb.Close() })
	raw := "From: a@example.org\r\nTo: support@desk.test\r\nSubject: hi\r\nMessage-ID: <c1@example.org>\r\n\r\nHello.\r\n"
	if err := mb.Deliver(context.Background(), []byte(raw)); err != nil {
		t.Fatal(err)
	}
	sink := devmail.NewSink(log, 10)
	addr, err := sink.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// Sink.Close hangs if it runs before the sink serves; a greeting
	// proves it does.
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Quit()
	t.Cleanup(func() { _ = sink.Close() })
	return mb.URL().String(), "smtp://" + addr
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestMailboxCheck(t *testing.T) {
	imapURL, smtpURL := checkServers(t)

	r := runCmd(t, []string{"IMAP_URL=" + imapURL, "SMTP_URL=" + smtpURL}, "mailbox", "check")
	if r.code != 0 {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"IMAP support@", "IDLE:         yes", "messages:     1", "UIDVALIDITY:", "UIDNEXT:      2", "SMTP smtp://" + strings.TrimPrefix(smtpURL, "smtp://") + ": ok"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}

	r = runCmd(t, []string{"IMAP_URL=" + imapURL, "SMTP_URL=smtp://" + closedAddr(t)}, "mailbox", "check")
	if r.code != 1 {
		t.Fatalf("closed SMTP port: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "IMAP support@") || !strings.Contains(r.stdout, "SMTP smtp://127.0.0.1") || !strings.Contains(r.stdout, "FAILED") {
		t.Errorf("closed SMTP port: output\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "SMTP_URL") || strings.Contains(r.stderr, "IMAP_URL") {
		t.Errorf("closed SMTP port: stderr %q should name SMTP_URL only", r.stderr)
	}

	r = runCmd(t, []string{"IMAP_URL=imap://support:s3cret@" + closedAddr(t) + "/INBOX"}, "mailbox", "check")
	if r.code != 1 || !strings.Contains(r.stderr, "IMAP_URL") {
		t.Errorf("closed IMAP port: exit %d, stderr %q", r.code, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "s3cret") {
		t.Errorf("output reveals the password:\n%s%s", r.stdout, r.stderr)
	}
}

func TestMailboxCheckUsageAndConfig(t *testing.T) {
	r := runCmd(t, nil, "mailbox", "check")
	if r.code != 1 || !strings.Contains(r.stderr, "nothing to check: set IMAP_URL and/or SMTP_URL") {
		t.Errorf("nothing configured: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runCmd(t, []string{"SMTP_URL=pop3://mail.example.org"}, "mailbox", "check")
	if r.code != 3 || !strings.Contains(r.stderr, "SMTP_URL") {
		t.Errorf("bad SMTP_URL: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runCmd(t, nil, "mailbox", "frobnicate")
	if r.code != 2 {
		t.Errorf("unknown subcommand: exit %d", r.code)
	}
	r = runCmd(t, nil, "mailbox", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "IDLE") || !strings.Contains(r.stdout, "Usage: recoverydesk mailbox check") {
		t.Errorf("--help: exit %d, stdout %q", r.code, r.stdout)
	}
}
