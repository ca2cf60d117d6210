package devmail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// Mailbox is an IMAP server holding one user whose INBOX is the support
// mailbox. It keeps messages in memory only.
type Mailbox struct {
	logger             *slog.Logger
	username, password string
	user               *imapmemserver.User
	mem                *imapmemserver.Server

	mu      sync.Mutex
	srv     *imapserver.Server
	ln      net.Listener
	addr    string
	done    chan struct{} // closed when the serve goroutine returns
	closed  bool
	arrived chan struct{} // closed and replaced at each delivery
}

// NewMailbox returns a Mailbox with one user and an empty INBOX.
func NewMailbox(logger *slog.Logger, username, password string) *Mailbox {
	user := imapmemserver.NewUser(username, password)
	// Create fails only for an existing mailbox, and this user is new.
	_ = user.Create("INBOX", nil)
	_ = user.Subscribe("INBOX")
	mem := imapmemserver.New()
	mem.AddUser(user)
	return &Mailbox{
		logger:   logger.With("component", "devmail.imap"),
		username: username,
		password: password,
		user:     user,
		mem:      mem,
		arrived:  make(chan struct{}),
	}
}

// Start listens on addr (e.g. "127.0.0.1:0") and serves in a goroutine. It
// returns the address actually listened on. There is no TLS, so LOGIN is
// allowed only when the listener is on a loopback address.
func (m *Mailbox) Start(addr string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.srv != nil {
		return "", errors.New("devmail: IMAP server already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("devmail: IMAP listen on %s: %w", addr, err)
	}
	loopback := false
	if ta, ok := ln.Addr().(*net.TCPAddr); ok {
		loopback = ta.IP.IsLoopback()
	}
	if !loopback {
		m.logger.Warn("devmail: IMAP server is not on loopback; without TLS, LOGIN is disabled", "addr", ln.Addr().String())
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			sess, ok := m.mem.NewSession().(imapserver.SessionIMAP4rev2)
			if !ok {
				return nil, nil, errors.New("devmail: imapmemserver session lacks IMAP4rev2 support")
			}
			return idleSession{SessionIMAP4rev2: sess, arrivals: m.arrivals}, nil, nil
		},
		// IDLE is advertised by imapserver itself (it is part of IMAP4rev2
		// and always on for IMAP4rev1), and the memory backend supports it.
		Caps: imap.CapSet{
			imap.CapIMAP4rev1: {},
			imap.CapIMAP4rev2: {},
		},
		Logger:       printfLogger{m.logger},
		InsecureAuth: loopback,
	})

	m.srv, m.ln, m.addr, m.done = srv, ln, ln.Addr().String(), make(chan struct{})
	go func() {
		defer close(m.done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
			m.logger.Error("devmail: IMAP server stopped", "err", err)
		}
	}()
	m.logger.Info("devmail: IMAP server listening", "addr", m.addr, "user", m.username)
	return m.addr, nil
}

// Close stops the server, drops open connections and waits for the serve
// goroutine. Delivered messages stay in memory.
func (m *Mailbox) Close() error {
	m.mu.Lock()
	srv, ln, done, closed := m.srv, m.ln, m.done, m.closed
	m.closed = true
	m.mu.Unlock()
	if srv == nil || closed {
		return nil
	}
	err := srv.Close()
	// Close our listener too: the server knows it only once Serve ran.
	_ = ln.Close()
	<-done
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("devmail: close IMAP server: %w", err)
	}
	return nil
}

// Deliver appends raw to INBOX as a new, unseen message, as if it had just
// arrived from outside. Clients in IDLE are told at once.
func (m *Mailbox) Deliver(ctx context.Context, raw []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("devmail: deliver: %w", err)
	}
	if len(raw) == 0 {
		return errors.New("devmail: deliver: empty message")
	}
	data, err := m.user.Append("INBOX", bytes.NewReader(raw), &imap.AppendOptions{Time: time.Now()})
	if err != nil {
		return fmt.Errorf("devmail: deliver to INBOX: %w", err)
	}
	m.announce()
	m.logger.Info("devmail: delivered to INBOX", "uid", data.UID, "bytes", len(raw))
	return nil
}

// Username returns the IMAP user name.
func (m *Mailbox) Username() string { return m.username }

// Password returns the IMAP password.
func (m *Mailbox) Password() string { return m.password }

// Addr returns the address the server listens on, or "" before Start.
func (m *Mailbox) Addr() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.addr
}

// URL returns an IMAP_URL for the support mailbox, credentials included.
func (m *Mailbox) URL() *url.URL {
	return &url.URL{
		Scheme: "imap",
		User:   url.UserPassword(m.username, m.password),
		Host:   m.Addr(),
		Path:   "/INBOX",
	}
}
