package imapsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/mailboxcheckpoint"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/mailbox"
	"github.com/recoverydesk/recoverydesk/mailbox/devmail"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// recorder is a MessageHandler that remembers what it was given, can be
// told to fail, and signals each message on got.
type recorder struct {
	mu   sync.Mutex
	seen []mailbox.Fetched
	fail func(mailbox.Fetched) error
	got  chan mailbox.Fetched
}

func newRecorder() *recorder { return &recorder{got: make(chan mailbox.Fetched, 100)} }

func (r *recorder) HandleMessage(_ context.Context, m mailbox.Fetched) error {
	r.mu.Lock()
	fail := r.fail
	r.mu.Unlock()
	if fail != nil {
		if err := fail(m); err != nil {
			return err
		}
	}
	r.mu.Lock()
	r.seen = append(r.seen, m)
	r.mu.Unlock()
	r.got <- m
	return nil
}

func (r *recorder) uids() []uint32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []uint32
	for _, m := range r.seen {
		out = append(out, m.UID)
	}
	return out
}

// next waits for the handler's next message, up to a deadline.
func (r *recorder) next(t *testing.T) mailbox.Fetched {
	t.Helper()
	select {
	case m := <-r.got:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message handled within 10s")
		return mailbox.Fetched{}
	}
}

func startServer(t *testing.T, addr string) *devmail.Mailbox {
	t.Helper()
	mb := devmail.NewMailbox(quiet(), "support", "s3cret")
	if _, err := mb.Start(addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mb.Close() })
	return mb
}

// rawMessage is a small message whose Message-ID and subject carry n.
func rawMessage(n int) []byte {
	return fmt.Appendf(nil, "From: someone@example.org\r\nTo: support@desk.test\r\nSubject: message %d\r\nMessage-ID: <m%d@example.org>\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n\r\nBody %d.\r\n", n, n, n)
}

func deliver(t *testing.T, mb *devmail.Mailbox, from, to int) {
	t.Helper()
	for n := from; n <= to; n++ {
		if err := mb.Deliver(context.Background(), rawMessage(n)); err != nil {
			t.Fatal(err)
		}
	}
}

func newSyncer(t *testing.T, mb *devmail.Mailbox, owner string, h mailbox.MessageHandler, tweak func(*Config)) *Syncer {
	t.Helper()
	cfg := Config{URL: mb.URL(), Owner: owner, Logger: quiet(), PollInterval: time.Hour}
	cfg.Backoff.Min, cfg.Backoff.Max = 10*time.Millisecond, 100*time.Millisecond
	if tweak != nil {
		tweak(&cfg)
	}
	s, err := New(testdb.Store(t).Ent, h, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func checkpointRow(t *testing.T, s *Syncer) *ent.MailboxCheckpoint {
	t.Helper()
	row, err := testdb.Store(t).Ent.MailboxCheckpoint.Query().
		Where(mailboxcheckpoint.Mailbox(s.Mailbox())).Only(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return row
}

// eventually polls cond until it holds or a deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runInBackground starts s.Run and returns a stop function that cancels
// it and checks it returned nil.
func runInBackground(t *testing.T, s *Syncer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v, want nil", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Run did not return within 10s of cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

var errBoom = errors.New("boom")
