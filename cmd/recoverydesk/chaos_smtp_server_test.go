package main_test

import (
	"io"
	"maps"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
)

// chaosSMTP is a relay in the test process. refuse decides the answer to
// each RCPT TO (nil accepts); it counts per recipient what it was asked
// and what it took delivery of (DATA done).
type chaosSMTP struct {
	addr   string
	refuse func(rcpt string) *smtp.SMTPError

	mu        sync.Mutex
	rcpts     map[string]int
	delivered map[string]int
}

func startChaosSMTP(t *testing.T, refuse func(rcpt string) *smtp.SMTPError) *chaosSMTP {
	t.Helper()
	s := &chaosSMTP{refuse: refuse, rcpts: map[string]int{}, delivered: map[string]int{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &chaosSMTPSession{s: s}, nil
	}))
	srv.Domain = "relay.test"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// URL is the worker's SMTP_URL.
func (s *chaosSMTP) URL() string { return "smtp://" + s.addr }

// asked returns how often each recipient was asked for.
func (s *chaosSMTP) asked() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.rcpts)
}

// deliveredTo returns how many mails each recipient was delivered.
func (s *chaosSMTP) deliveredTo() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.delivered)
}

type chaosSMTPSession struct {
	s  *chaosSMTP
	to []string
}

func (ss *chaosSMTPSession) Mail(string, *smtp.MailOptions) error { return nil }

func (ss *chaosSMTPSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	to = strings.ToLower(to)
	ss.s.mu.Lock()
	ss.s.rcpts[to]++
	ss.s.mu.Unlock()
	if ss.s.refuse != nil {
		if e := ss.s.refuse(to); e != nil {
			return e
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *chaosSMTPSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	ss.s.mu.Lock()
	for _, to := range ss.to {
		ss.s.delivered[to]++
	}
	ss.s.mu.Unlock()
	return nil
}

func (ss *chaosSMTPSession) Reset()        { ss.to = nil }
func (ss *chaosSMTPSession) Logout() error { return nil }
