package mailbox_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/recoverydesk/recoverydesk/mailbox"
	"github.com/recoverydesk/recoverydesk/mailbox/devmail"
)

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func startSink(t *testing.T) (*devmail.Sink, string) {
	t.Helper()
	sink := devmail.NewSink(quietLogger(), 10)
	addr, err := sink.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sink.Close(); err != nil {
			t.Error(err)
		}
	})
	return sink, addr
}

func sender(t *testing.T, url string) *mailbox.Sender {
	t.Helper()
	cfg, err := mailbox.ParseSMTPURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return mailbox.NewSender(cfg)
}

func testMessage(t *testing.T) []byte {
	t.Helper()
	raw, err := mailbox.Compose(mailbox.Outgoing{
		From:    mail.Address{Name: "Recovery Desk", Address: "support@desk.test"},
		To:      mail.Address{Name: "Zoë", Address: "zoe@example.org"},
		Subject: "Ihre Anfrage [RD-7K3F9Q] ist eingegangen – Grüße",
		Text:    "Hello Zoë,\nwe received your request.\n",
		HTML:    "<p>Hello Zoë</p>",
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestSendToSink(t *testing.T) {
	for _, url := range []string{"smtp://%s", "smtp://anyone:anything@%s"} {
		t.Run(url, func(t *testing.T) {
			sink, addr := startSink(t)
			s := sender(t, strings.Replace(url, "%s", addr, 1))
			msg := testMessage(t)
			to := []string{"zoe@example.org", "cc@example.org"}
			if err := s.Send(context.Background(), "bounces@desk.test", to, msg); err != nil {
				t.Fatal(err)
			}

			got := sink.List()
			if len(got) != 1 {
				t.Fatalf("sink holds %d mails, want 1", len(got))
			}
			m := got[0]
			if m.Subject != "Ihre Anfrage [RD-7K3F9Q] ist eingegangen – Grüße" {
				t.Errorf("Subject = %q", m.Subject)
			}
			if m.Text != "Hello Zoë,\r\nwe received your request.\r\n" {
				t.Errorf("Text = %q", m.Text)
			}
			if m.HTML != "<p>Hello Zoë</p>" {
				t.Errorf("HTML = %q", m.HTML)
			}
			if m.EnvelopeFrom != "bounces@desk.test" || strings.Join(m.EnvelopeTo, ",") != "zoe@example.org,cc@example.org" {
				t.Errorf("envelope = %q -> %q", m.EnvelopeFrom, m.EnvelopeTo)
			}
			if m.From != "Recovery Desk <support@desk.test>" || m.To != "Zoë <zoe@example.org>" {
				t.Errorf("From = %q, To = %q", m.From, m.To)
			}
			if string(m.Raw) != string(msg) {
				t.Errorf("raw differs from what was sent")
			}
			if byID, ok := sink.Get(m.ID); !ok || byID.Subject != m.Subject {
				t.Errorf("Get(%q) = %v, %v", m.ID, byID.Subject, ok)
			}
		})
	}
}

// recorder is an SMTP server whose RCPT answer is set by the test, and
// which records what arrives and whether it came over TLS.
type recorder struct {
	rcptErr error

	mu    sync.Mutex
	tls   []bool // one entry per DATA
	datas [][]byte
}

func (r *recorder) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &recorderSession{r: r, tls: isTLS}, nil
}

type recorderSession struct {
	r   *recorder
	tls bool
}

func (s *recorderSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *recorderSession) Rcpt(string, *smtp.RcptOptions) error { return s.r.rcptErr }
func (s *recorderSession) Reset()                               {}
func (s *recorderSession) Logout() error                        { return nil }
func (s *recorderSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.datas = append(s.r.datas, b)
	s.r.tls = append(s.r.tls, s.tls)
	return nil
}

func (r *recorder) received() ([][]byte, []bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.datas, r.tls
}

// serve starts an SMTP server for be on loopback. With tlsCfg it offers
// STARTTLS, or with implicit it speaks TLS from the start.
func serve(t *testing.T, be smtp.Backend, tlsCfg *tls.Config, implicit bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if implicit {
		ln = tls.NewListener(ln, tlsCfg)
	}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.TLSConfig = tlsCfg
	srv.ErrorLog = nopLogger{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return ln.Addr().String()
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}
func (nopLogger) Println(...any)        {}

func TestSendRejectedRecipient(t *testing.T) {
	tests := []struct {
		code      int
		enhanced  smtp.EnhancedCode
		permanent bool
	}{
		{550, smtp.EnhancedCode{5, 1, 1}, true},
		{553, smtp.EnhancedCode{5, 1, 3}, true},
		{451, smtp.EnhancedCode{4, 3, 0}, false},
		{421, smtp.EnhancedCode{4, 7, 0}, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			rec := &recorder{rcptErr: &smtp.SMTPError{Code: tt.code, EnhancedCode: tt.enhanced, Message: "not today"}}
			addr := serve(t, rec, nil, false)
			err := sender(t, "smtp://"+addr).Send(context.Background(), "support@desk.test", []string{"zoe@example.org"}, testMessage(t))
			if err == nil {
				t.Fatal("Send succeeded, want a rejection")
			}
			if got := mailbox.IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, got, tt.permanent)
			}
			var se *smtp.SMTPError
			if !errors.As(err, &se) || se.Code != tt.code {
				t.Errorf("error %v does not carry SMTP code %d", err, tt.code)
			}
			if !strings.Contains(err.Error(), "RCPT TO:<zoe@example.org>") {
				t.Errorf("error %q does not say which command failed", err)
			}
			if datas, _ := rec.received(); len(datas) != 0 {
				t.Errorf("%d messages delivered despite the rejection", len(datas))
			}
		})
	}
}

func TestSendStartTLSRequiredButNotOffered(t *testing.T) {
	sink, addr := startSink(t)
	err := sender(t, "smtp+starttls://"+addr).Send(context.Background(), "support@desk.test", []string{"zoe@example.org"}, testMessage(t))
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("err = %v, want a STARTTLS failure", err)
	}
	if mailbox.IsPermanent(err) {
		t.Errorf("a relay misconfiguration should be retried, got permanent: %v", err)
	}
	if n := len(sink.List()); n != 0 {
		t.Errorf("sink captured %d mails over plaintext", n)
	}
}

// silentServer accepts connections and never says a word; accepted gets
// one value per connection.
func silentServer(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{}, 4)
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			accepted <- struct{}{}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String(), accepted
}

func TestSendHonoursContext(t *testing.T) {
	t.Run("deadline", func(t *testing.T) {
		addr, _ := silentServer(t)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := sender(t, "smtp://"+addr).Send(ctx, "support@desk.test", []string{"zoe@example.org"}, testMessage(t))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want context.DeadlineExceeded", err)
		}
		if elapsed := time.Since(start); elapsed > 10*time.Second {
			t.Errorf("Send took %v after a 300ms deadline", elapsed)
		}
		if mailbox.IsPermanent(err) {
			t.Error("a timeout must not be permanent")
		}
	})
	t.Run("cancel", func(t *testing.T) {
		addr, accepted := silentServer(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			<-accepted // Send is now waiting for the greeting
			cancel()
		}()
		err := sender(t, "smtp://"+addr).Send(ctx, "support@desk.test", []string{"zoe@example.org"}, testMessage(t))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

func TestSendInvalidEnvelope(t *testing.T) {
	s := mailbox.NewSender(mailbox.SMTPConfig{Host: "127.0.0.1", Port: 1}) // never dialled
	for name, tc := range map[string]struct {
		from string
		to   []string
	}{
		"no recipients":    {"support@desk.test", nil},
		"bracketed rcpt":   {"support@desk.test", []string{"<zoe@example.org>"}},
		"rcpt without at":  {"support@desk.test", []string{"zoe"}},
		"from with spaces": {"support @desk.test", []string{"zoe@example.org"}},
	} {
		t.Run(name, func(t *testing.T) {
			err := s.Send(context.Background(), tc.from, tc.to, []byte("x"))
			if !errors.Is(err, mailbox.ErrInvalidEnvelope) || !mailbox.IsPermanent(err) {
				t.Fatalf("err = %v, want a permanent ErrInvalidEnvelope", err)
			}
		})
	}
}

func TestIsPermanent(t *testing.T) {
	if mailbox.IsPermanent(nil) || mailbox.IsPermanent(errors.New("connection refused")) || mailbox.IsPermanent(context.DeadlineExceeded) {
		t.Error("non-SMTP errors must be temporary")
	}
}
