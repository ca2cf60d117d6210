package devmail

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Sink is an SMTP server that accepts every message and keeps the newest
// ones in memory for the /dev/mail page. It is safe for concurrent use.
type Sink struct {
	logger   *slog.Logger
	capacity int

	mu    sync.Mutex
	mails []Mail // oldest first
	srv   *smtp.Server
	ln    net.Listener
	addr  string
	done  chan struct{} // closed when the serve goroutine returns
}

// DefaultSinkCapacity is used when NewSink is given a capacity below 1.
const DefaultSinkCapacity = 500

// NewSink returns a Sink that keeps at most capacity mails, dropping the
// oldest first.
func NewSink(logger *slog.Logger, capacity int) *Sink {
	if capacity < 1 {
		capacity = DefaultSinkCapacity
	}
	return &Sink{logger: logger.With("component", "devmail.sink"), capacity: capacity}
}

// Start listens on addr (e.g. "127.0.0.1:0") and serves in a goroutine. It
// returns the address actually listened on.
func (s *Sink) Start(addr string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return "", errors.New("devmail: sink already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("devmail: sink listen on %s: %w", addr, err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &sinkSession{sink: s}, nil
	}))
	srv.Domain = "localhost"
	srv.MaxMessageBytes = 25 << 20
	srv.MaxRecipients = 100
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.AllowInsecureAuth = true // loopback only; any credentials pass
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = printfLogger{s.logger}

	s.srv, s.ln, s.addr, s.done = srv, ln, ln.Addr().String(), make(chan struct{})
	go func() {
		defer close(s.done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			s.logger.Error("devmail: sink stopped", "err", err)
		}
	}()
	s.logger.Info("devmail: SMTP sink listening", "addr", s.addr)
	return s.addr, nil
}

// Addr returns the address the sink listens on, or "" before Start.
func (s *Sink) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// URL returns an SMTP_URL pointing at the sink.
func (s *Sink) URL() *url.URL {
	return &url.URL{Scheme: "smtp", Host: s.Addr()}
}

// Close stops the server, drops open connections and waits for the serve
// goroutine. The captured mails stay readable.
func (s *Sink) Close() error {
	s.mu.Lock()
	srv, ln, done := s.srv, s.ln, s.done
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Close()
	// go-smtp closes only listeners its Serve has registered; close ours
	// too, or Close called right after Start would wait forever.
	_ = ln.Close()
	<-done
	if errors.Is(err, smtp.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("devmail: close sink: %w", err)
	}
	return nil
}

// List returns the captured mails, newest first.
func (s *Sink) List() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Mail, len(s.mails))
	for i, m := range s.mails {
		out[len(s.mails)-1-i] = m
	}
	return out
}

// Get returns the captured mail with the given ID.
func (s *Sink) Get(id string) (Mail, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.mails {
		if m.ID == id {
			return m, true
		}
	}
	return Mail{}, false
}

func (s *Sink) add(m Mail) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mails = append(s.mails, m)
	if n := len(s.mails) - s.capacity; n > 0 {
		// Copy rather than reslice so dropped mails can be collected.
		s.mails = append([]Mail(nil), s.mails[n:]...)
	}
}

// sinkSession collects one SMTP transaction at a time.
type sinkSession struct {
	sink *Sink
	from string
	to   []string
}

var _ smtp.AuthSession = (*sinkSession)(nil)

func (ss *sinkSession) AuthMechanisms() []string { return []string{sasl.Plain} }

// Auth accepts any credentials, so a dev setup with a user in SMTP_URL
// still works against the sink.
func (ss *sinkSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(string, string, string) error { return nil }), nil
}

func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		// Returned as is: go-smtp only turns an unwrapped *smtp.SMTPError
		// (e.g. ErrDataTooLarge) into its own reply code.
		return err
	}
	m := parseMail(raw)
	m.ID = newID()
	m.ReceivedAt = time.Now()
	m.EnvelopeFrom = ss.from
	m.EnvelopeTo = append([]string(nil), ss.to...)
	ss.sink.add(m)
	ss.sink.logger.Info("devmail: captured mail", "id", m.ID, "to", m.EnvelopeTo, "subject", m.Subject)
	return nil
}

func (ss *sinkSession) Reset() {
	ss.from, ss.to = "", nil
}

func (ss *sinkSession) Logout() error { return nil }
