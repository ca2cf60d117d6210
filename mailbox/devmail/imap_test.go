package devmail

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	gomail "github.com/emersion/go-message/mail"
)

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func startMailbox(t *testing.T) (*Mailbox, string) {
	t.Helper()
	mb := NewMailbox(quietLogger(), "support", "s3cret")
	addr, err := mb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := mb.Close(); err != nil {
			t.Error(err)
		}
	})
	return mb, addr
}

func login(t *testing.T, addr string, opts *imapclient.Options) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login("support", "s3cret").Wait(); err != nil {
		t.Fatalf("LOGIN: %v", err)
	}
	return c
}

func TestMailboxDeliverThenFetch(t *testing.T) {
	mb, addr := startMailbox(t)
	if mb.Addr() != addr || mb.Username() != "support" || mb.Password() != "s3cret" {
		t.Fatalf("accessors: %q %q %q", mb.Addr(), mb.Username(), mb.Password())
	}
	if u := mb.URL(); u.String() != "imap://support:s3cret@"+addr+"/INBOX" {
		t.Errorf("URL() = %s", u)
	}

	raw, err := ComposeOutside(Outside{
		FromName:   "Zoë Müller",
		From:       "zoe@example.org",
		To:         "support@desk.test",
		Subject:    "Re: [RD-7K3F9Q] Lost my phone",
		Body:       "It was the old one.\n",
		InReplyTo:  "ack.1@desk.test",
		References: []string{"orig@example.org", "ack.1@desk.test"},
	}, time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if err := mb.Deliver(context.Background(), raw); err != nil {
		t.Fatal(err)
	}

	c := login(t, addr, nil)
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatalf("SELECT: %v", err)
	}
	if sel.NumMessages != 1 {
		t.Fatalf("INBOX has %d messages, want 1", sel.NumMessages)
	}
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{
		Flags:       true,
		UID:         true,
		BodySection: []*imap.FetchItemBodySection{section},
	}).Collect()
	if err != nil {
		t.Fatalf("FETCH: %v", err)
	}
	if len(msgs) != 1 {
		t.Fatalf("fetched %d messages", len(msgs))
	}
	body := msgs[0].FindBodySection(section)
	if !bytes.Equal(body, raw) {
		t.Fatalf("fetched body differs from the delivered one:\n%s\n---\n%s", body, raw)
	}
	if slices.Contains(msgs[0].Flags, imap.FlagSeen) {
		t.Error("a newly delivered message is already \\Seen")
	}

	r, err := gomail.CreateReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := r.Header.Subject(); s != "Re: [RD-7K3F9Q] Lost my phone" {
		t.Errorf("Subject = %q", s)
	}
	if ids, _ := r.Header.MsgIDList("In-Reply-To"); !slices.Equal(ids, []string{"ack.1@desk.test"}) {
		t.Errorf("In-Reply-To = %q", ids)
	}
	if ids, _ := r.Header.MsgIDList("References"); !slices.Equal(ids, []string{"orig@example.org", "ack.1@desk.test"}) {
		t.Errorf("References = %q", ids)
	}
	if from, _ := r.Header.AddressList("From"); len(from) != 1 || from[0].Name != "Zoë Müller" || from[0].Address != "zoe@example.org" {
		t.Errorf("From = %v", from)
	}
}

func TestMailboxRejectsBadLogin(t *testing.T) {
	_, addr := startMailbox(t)
	for _, creds := range [][2]string{{"support", "wrong"}, {"nobody", "s3cret"}} {
		c, err := imapclient.DialInsecure(addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Login(creds[0], creds[1]).Wait(); err == nil {
			t.Errorf("LOGIN %s/%s succeeded", creds[0], creds[1])
		}
		if _, err := c.Select("INBOX", nil).Wait(); err == nil {
			t.Errorf("SELECT succeeded without a login")
		}
		c.Close()
	}
}

func TestMailboxIdleSeesNewMail(t *testing.T) {
	mb, addr := startMailbox(t)
	exists := make(chan uint32, 4)
	c := login(t, addr, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					exists <- *d.NumMessages
				}
			},
		},
	})
	if !c.Caps().Has(imap.CapIdle) && !c.Caps().Has(imap.CapIMAP4rev2) {
		t.Fatalf("server advertises neither IDLE nor IMAP4rev2: %v", c.Caps())
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatalf("IDLE: %v", err)
	}
	if err := mb.Deliver(context.Background(), []byte("Subject: ping\r\n\r\nhello\r\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-exists:
		if n != 1 {
			t.Errorf("EXISTS %d, want 1", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no EXISTS while idling after a delivery")
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestMailboxDeliverChecks(t *testing.T) {
	mb := NewMailbox(quietLogger(), "support", "s3cret") // Deliver works before Start
	if err := mb.Deliver(context.Background(), nil); err == nil {
		t.Error("empty message delivered")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := mb.Deliver(ctx, []byte("Subject: x\r\n\r\ny")); err == nil {
		t.Error("delivered with a cancelled context")
	}
	if err := mb.Close(); err != nil {
		t.Errorf("Close before Start: %v", err)
	}
}
