package mailbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// ErrInvalidEnvelope is wrapped by Send's error when the envelope itself is
// unusable (no recipient, an address with spaces or brackets); like a 5xx
// reply, retrying cannot help.
var ErrInvalidEnvelope = errors.New("mailbox: invalid SMTP envelope")

// Sender delivers composed messages to one relay. It holds no connection
// between sends, so it is safe for concurrent use.
type Sender struct {
	cfg    SMTPConfig
	dialer net.Dialer
}

// NewSender returns a Sender for the relay described by cfg.
func NewSender(cfg SMTPConfig) *Sender {
	return &Sender{cfg: cfg, dialer: net.Dialer{Timeout: 30 * time.Second}}
}

// Send delivers msg (as built by Compose) to the recipients to, with
// envelopeFrom as the return path ("" sends the null path "<>", as bounces
// and auto-replies should). It gives up when ctx is done. A recipient
// rejected by the relay fails the whole send, so nobody gets a partial
// delivery that a retry would duplicate. Use IsPermanent on the error to
// decide whether to retry.
func (s *Sender) Send(ctx context.Context, envelopeFrom string, to []string, msg []byte) (err error) {
	if err := checkEnvelope(envelopeFrom, to); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("mailbox: send via %s: %w", s.cfg.Addr(), withContextErr(ctx, err))
		}
	}()

	c, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()

	var opts *smtp.MailOptions
	if !isASCII(envelopeFrom) || !isASCII(strings.Join(to, "")) {
		opts = &smtp.MailOptions{UTF8: true}
	}
	if err := c.Mail(envelopeFrom, opts); err != nil {
		return fmt.Errorf("MAIL FROM:<%s>: %w", envelopeFrom, err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			return fmt.Errorf("RCPT TO:<%s>: %w", rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("DATA: write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	// The relay has accepted the message; a failing QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// open connects and greets, upgrading to TLS as the configuration says.
func (s *Sender) open(ctx context.Context) (*smtp.Client, error) {
	switch s.cfg.Security {
	case SecurityImplicitTLS:
		conn, err := s.dial(ctx)
		if err != nil {
			return nil, err
		}
		tc := tls.Client(conn, s.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		return s.hello(smtp.NewClient(tc))
	case SecurityStartTLS:
		return s.startTLS(ctx)
	case SecurityOpportunistic:
		conn, err := s.dial(ctx)
		if err != nil {
			return nil, err
		}
		c, err := s.hello(smtp.NewClient(conn))
		if err != nil {
			return nil, err
		}
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return c, nil
		}
		// go-smtp only upgrades a connection it has just opened, so after
		// seeing STARTTLS offered we reconnect and upgrade that one.
		_ = c.Quit()
		c.Close()
		return s.startTLS(ctx)
	default:
		return nil, fmt.Errorf("unknown security mode %v", s.cfg.Security)
	}
}

func (s *Sender) startTLS(ctx context.Context) (*smtp.Client, error) {
	conn, err := s.dial(ctx)
	if err != nil {
		return nil, err
	}
	c, err := smtp.NewClientStartTLS(conn, s.tlsConfig())
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("STARTTLS: %w", err)
	}
	return s.hello(c)
}

// hello sends EHLO now so that greeting errors surface here, and so that
// the extensions are known before deciding on STARTTLS and AUTH.
func (s *Sender) hello(c *smtp.Client) (*smtp.Client, error) {
	name := s.cfg.HelloName
	if name == "" {
		name = "localhost"
	}
	if err := c.Hello(name); err != nil {
		c.Close()
		return nil, fmt.Errorf("EHLO: %w", err)
	}
	return c, nil
}

func (s *Sender) auth(c *smtp.Client) error {
	if _, isTLS := c.TLSConnectionState(); !isTLS && !isLoopback(s.cfg.Host) {
		return fmt.Errorf("refusing to send the password for %q over a plaintext connection to %s; use smtp+starttls:// or smtps://", s.cfg.Username, s.cfg.Host)
	}
	if !c.SupportsAuth(sasl.Plain) {
		return errors.New("the relay does not offer AUTH PLAIN")
	}
	if err := c.Auth(sasl.NewPlainClient("", s.cfg.Username, s.cfg.Password)); err != nil {
		return fmt.Errorf("AUTH PLAIN as %q: %w", s.cfg.Username, err)
	}
	return nil
}

func (s *Sender) dial(ctx context.Context) (net.Conn, error) {
	conn, err := s.dialer.DialContext(ctx, "tcp", s.cfg.Addr())
	if err != nil {
		return nil, err
	}
	c := &ctxConn{Conn: conn}
	c.limit, _ = ctx.Deadline()
	// go-smtp has no context support: closing the connection is what
	// interrupts a blocked read or write when ctx is cancelled.
	c.stop = context.AfterFunc(ctx, func() { conn.Close() })
	return c, nil
}

func (s *Sender) tlsConfig() *tls.Config {
	cfg := &tls.Config{}
	if s.cfg.TLS != nil {
		cfg = s.cfg.TLS.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = s.cfg.Host
	}
	return cfg
}

// ctxConn ties a connection to a context: it is closed when the context is
// done, and every deadline go-smtp sets (one per command, then cleared) is
// kept at or before the context's deadline.
type ctxConn struct {
	net.Conn
	limit time.Time // zero when the context has no deadline
	stop  func() bool
}

func (c *ctxConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

func (c *ctxConn) clamp(t time.Time) time.Time {
	if !c.limit.IsZero() && (t.IsZero() || t.After(c.limit)) {
		return c.limit
	}
	return t
}

func (c *ctxConn) SetDeadline(t time.Time) error { return c.Conn.SetDeadline(c.clamp(t)) }
func (c *ctxConn) SetReadDeadline(t time.Time) error {
	return c.Conn.SetReadDeadline(c.clamp(t))
}
func (c *ctxConn) SetWriteDeadline(t time.Time) error {
	return c.Conn.SetWriteDeadline(c.clamp(t))
}

// withContextErr makes a failure caused by ctx recognisable with errors.Is,
// rather than a bare "use of closed connection" or "i/o timeout".
func withContextErr(ctx context.Context, err error) error {
	ctxErr := ctx.Err()
	if ctxErr == nil && errors.Is(err, os.ErrDeadlineExceeded) {
		// The socket deadline can fire a moment before ctx notices.
		if d, ok := ctx.Deadline(); ok && !time.Now().Before(d.Add(-time.Millisecond)) {
			ctxErr = context.DeadlineExceeded
		}
	}
	if ctxErr == nil || errors.Is(err, ctxErr) {
		return err
	}
	return fmt.Errorf("%w: %w", ctxErr, err)
}

// IsPermanent reports whether err from Send means retrying the same message
// cannot succeed: a 5xx reply from the relay or an invalid envelope.
// Everything else (4xx replies, network failures, timeouts) is temporary.
func IsPermanent(err error) bool {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code >= 500 && se.Code <= 599
	}
	return errors.Is(err, ErrInvalidEnvelope)
}

func checkEnvelope(from string, to []string) error {
	if len(to) == 0 {
		return fmt.Errorf("%w: no recipients", ErrInvalidEnvelope)
	}
	if from != "" {
		if err := checkEnvelopeAddr(from); err != nil {
			return fmt.Errorf("%w: from: %w", ErrInvalidEnvelope, err)
		}
	}
	for i, rcpt := range to {
		if err := checkEnvelopeAddr(rcpt); err != nil {
			return fmt.Errorf("%w: to[%d]: %w", ErrInvalidEnvelope, i, err)
		}
	}
	return nil
}

func checkEnvelopeAddr(addr string) error {
	at := strings.LastIndexByte(addr, '@')
	if at < 1 || at == len(addr)-1 || strings.ContainsAny(addr, "<> \t\r\n") {
		return fmt.Errorf("%q is not a bare address like someone@example.org", addr)
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] > 127 {
			return false
		}
	}
	return true
}

// connect opens a session with the relay (TLS as configured, EHLO) and
// authenticates when the URL has credentials.
func (s *Sender) connect(ctx context.Context) (*smtp.Client, error) {
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	if s.cfg.Username != "" {
		if err := s.auth(c); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// Check connects to the relay as Send would (TLS as configured, EHLO,
// AUTH when there are credentials) and says QUIT without sending
// anything; for `recoverydesk mailbox check`.
func (s *Sender) Check(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("mailbox: check %s: %w", s.cfg.Addr(), withContextErr(ctx, err))
		}
	}()
	c, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Quit(); err != nil {
		return fmt.Errorf("QUIT: %w", err)
	}
	return nil
}
