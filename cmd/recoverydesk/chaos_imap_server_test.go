package main_test

import (
	"bytes"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// chaosIMAP is an IMAP server in the test process (go-imap's memory
// backend), so it outlives the workers it serves. Its mail outlives the
// listener: stop and start it again on the same port and a worker finds
// the same messages under the same UIDs and UIDVALIDITY, as after a real
// server's restart. It records every command line clients send, tagged
// with the server's generation (incremented at each start).
type chaosIMAP struct {
	user *imapmemserver.User
	mem  *imapmemserver.Server
	addr string

	mu   sync.Mutex
	gen  int
	srv  *imapserver.Server
	ln   net.Listener
	done chan struct{}
	log  []imapCommand
	next uint32 // connections accepted, to tell them apart
}

// imapCommand is one line a client sent.
type imapCommand struct {
	gen, conn int
	line      string
}

func startChaosIMAP(t *testing.T) *chaosIMAP {
	t.Helper()
	user := imapmemserver.NewUser("support", "s3cret")
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem := imapmemserver.New()
	mem.AddUser(user)
	s := &chaosIMAP{user: user, mem: mem, addr: "127.0.0.1:0"}
	s.start(t)
	t.Cleanup(s.stop)
	return s
}

// URL is the worker's IMAP_URL.
func (s *chaosIMAP) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return (&url.URL{Scheme: "imap", User: url.UserPassword("support", "s3cret"), Host: s.addr, Path: "/INBOX"}).String()
}

// start listens (again) on the server's address.
func (s *chaosIMAP) start(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		t.Fatalf("IMAP server listen on %s: %v", s.addr, err)
	}
	s.gen++
	s.addr = ln.Addr().String()
	s.ln = &recordingListener{Listener: ln, s: s, gen: s.gen}
	s.srv = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return s.mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
	})
	s.done = make(chan struct{})
	srv, rln, done := s.srv, s.ln, s.done
	go func() {
		defer close(done)
		_ = srv.Serve(rln)
	}()
}

// stop kills the server: the listener and every connection close at once.
// The mail stays.
func (s *chaosIMAP) stop() {
	s.mu.Lock()
	srv, ln, done := s.srv, s.ln, s.done
	s.srv = nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	_ = srv.Close()
	_ = ln.Close()
	<-done
}

// appendRaw stores messages in INBOX directly through the backend, far
// faster than APPEND over a socket; it returns the last UID assigned.
func (s *chaosIMAP) appendRaw(t *testing.T, raws [][]byte) uint32 {
	t.Helper()
	var last uint32
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	for _, raw := range raws {
		data, err := s.user.Append("INBOX", bytes.NewReader(raw), &imap.AppendOptions{Time: at})
		if err != nil {
			t.Fatalf("append: %v", err)
		}
		last = uint32(data.UID)
	}
	return last
}

// commands returns the command lines clients sent that keep says to.
func (s *chaosIMAP) commands(keep func(imapCommand) bool) []imapCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []imapCommand
	for _, c := range s.log {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

// connections is how many connections the server has accepted so far.
func (s *chaosIMAP) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(s.next)
}

func (s *chaosIMAP) record(c imapCommand) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, c)
}

// recordingListener hands out connections that record what clients send.
type recordingListener struct {
	net.Listener
	s   *chaosIMAP
	gen int
}

func (l *recordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.s.mu.Lock()
	l.s.next++
	id := int(l.s.next)
	l.s.mu.Unlock()
	return &recordingConn{Conn: c, l: l, id: id}, nil
}

// recordingConn splits what the client sends into lines. Workers send no
// literals, so every line is a command (or DONE, ending IDLE).
type recordingConn struct {
	net.Conn
	l   *recordingListener
	id  int
	buf []byte
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.buf = append(c.buf, p[:n]...)
	for {
		i := bytes.Index(c.buf, []byte("\r\n"))
		if i < 0 {
			break
		}
		c.l.s.record(imapCommand{gen: c.l.gen, conn: c.id, line: string(c.buf[:i])})
		c.buf = c.buf[i+2:]
	}
	return n, err
}
