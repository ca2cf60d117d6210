package dovecot_test

import (
	"errors"
	"os"
	"testing"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/recoverydesk/recoverydesk/internal/dovecot"
)

// Start gives a server that takes mail and keeps it across a crash.
func TestStartAppendRestart(t *testing.T) {
	s, err := dovecot.Start(dovecot.Options{Username: "support", Password: "s3cret", Mdbox: true})
	if errors.Is(err, dovecot.ErrNotInstalled) && os.Getenv("REQUIRE_DOVECOT") != "1" {
		t.Skip("SKIPPED: ", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	count := func() uint32 {
		t.Helper()
		c, err := imapclient.DialInsecure(s.URL().Host, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Login("support", "s3cret").Wait(); err != nil {
			t.Fatal(err)
		}
		raw := []byte("From: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n")
		cmd := c.Append("INBOX", int64(len(raw)), nil)
		if _, err := cmd.Write(raw); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
		sel, err := c.Select("INBOX", nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		return sel.NumMessages
	}
	if n := count(); n != 1 {
		t.Fatalf("%d messages after one APPEND", n)
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("%d messages after a restart and a second APPEND, want 2", n)
	}
}
