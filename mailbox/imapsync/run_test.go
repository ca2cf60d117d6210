package imapsync

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/ent/mailboxcheckpoint"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

func TestRunHandlesMailAsItArrivesWithIdle(t *testing.T) {
	mb := startServer(t, "127.0.0.1:0")
	deliver(t, mb, 1, 1)
	rec := newRecorder()
	// An hour between polls: only IDLE can bring message 2 in time.
	s := newSyncer(t, mb, "w1", rec, func(c *Config) {
		c.PollInterval = time.Hour
		c.LeaseTTL = 300 * time.Millisecond
	})
	stop := runInBackground(t, s)

	if m := rec.next(t); m.UID != 1 {
		t.Fatalf("first message handled has UID %d, want 1", m.UID)
	}
	deliver(t, mb, 2, 2)
	if m := rec.next(t); m.UID != 2 {
		t.Fatalf("second message handled has UID %d, want 2", m.UID)
	}
	row := checkpointRow(t, s)
	if row.LeaseOwner == nil || *row.LeaseOwner != "w1" || row.LeaseExpiresAt == nil {
		t.Fatalf("lease while running = %v until %v, want w1's", row.LeaseOwner, row.LeaseExpiresAt)
	}
	// While idling, the lease is renewed before it lapses.
	first := *row.LeaseExpiresAt
	eventually(t, "lease renewal", func() bool {
		r := checkpointRow(t, s)
		return r.LeaseExpiresAt != nil && r.LeaseExpiresAt.After(first)
	})
	stop()
	row = checkpointRow(t, s)
	if row.LastUID != 2 || row.LeaseOwner != nil {
		t.Errorf("after Run: last_uid %d owner %v; want 2 and released", row.LastUID, row.LeaseOwner)
	}
}

func TestRunReconnectsAfterServerRestart(t *testing.T) {
	mb := startServer(t, "127.0.0.1:0")
	addr := mb.Addr()
	deliver(t, mb, 1, 2)
	rec := newRecorder()
	s := newSyncer(t, mb, "w1", rec, nil)
	runInBackground(t, s)
	rec.next(t)
	rec.next(t)

	// The in-memory server loses its mail on restart and numbers from 1
	// again under the same UIDVALIDITY; the Syncer sees UIDNEXT fall
	// below its checkpoint and starts over.
	if err := mb.Close(); err != nil {
		t.Fatal(err)
	}
	mb2 := startServer(t, addr)
	deliver(t, mb2, 3, 3)
	m := rec.next(t)
	if m.UID != 1 || !strings.Contains(string(m.Raw), "message 3") {
		t.Fatalf("after restart got UID %d %q, want UID 1 with message 3", m.UID, m.Raw)
	}
	eventually(t, "checkpoint at UID 1", func() bool { return checkpointRow(t, s).LastUID == 1 })
}

func TestOnlyOneWorkerHoldsTheLease(t *testing.T) {
	ctx := context.Background()
	mb := startServer(t, "127.0.0.1:0")
	deliver(t, mb, 1, 2)
	recA, recB := newRecorder(), newRecorder()
	a := newSyncer(t, mb, "worker-a", recA, nil)
	b := newSyncer(t, mb, "worker-b", recB, func(c *Config) { c.LeaseTTL = 200 * time.Millisecond })

	stopA := runInBackground(t, a)
	recA.next(t)
	recA.next(t)

	n, err := b.SyncOnce(ctx)
	if !errors.Is(err, ErrLeaseHeld) || !strings.Contains(err.Error(), "worker-a") || n != 0 {
		t.Fatalf("B.SyncOnce while A runs = %d, %v; want ErrLeaseHeld naming worker-a", n, err)
	}
	// B's Run stands by while A holds the mailbox...
	stopB := runInBackground(t, b)
	deliver(t, mb, 3, 3)
	if m := recA.next(t); m.UID != 3 {
		t.Fatalf("A handled UID %d, want 3", m.UID)
	}
	// The handler runs before the checkpoint moves; stopping A in between
	// would (rightly) make B fetch 3 again.
	eventually(t, "checkpoint at 3", func() bool { return checkpointRow(t, a).LastUID == 3 })
	// ...and takes over once A stops and releases it.
	stopA()
	deliver(t, mb, 4, 4)
	if m := recB.next(t); m.UID != 4 {
		t.Fatalf("B handled UID %d after takeover, want 4 (the checkpoint is shared)", m.UID)
	}
	if got := recB.uids(); !slices.Equal(got, []uint32{4}) {
		t.Errorf("B handled %v, want only [4]", got)
	}
	stopB()
}

func TestExpiredLeaseIsTakenOver(t *testing.T) {
	ctx := context.Background()
	mb := startServer(t, "127.0.0.1:0")
	deliver(t, mb, 1, 1)
	rec := newRecorder()
	s := newSyncer(t, mb, "w1", rec, nil)
	if _, err := s.SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}
	client := testdb.Store(t).Ent
	setLease := func(until time.Time) {
		t.Helper()
		err := client.MailboxCheckpoint.Update().
			Where(mailboxcheckpoint.Mailbox(s.Mailbox())).
			SetLeaseOwner("crashed-worker").SetLeaseExpiresAt(until).Exec(ctx)
		if err != nil {
			t.Fatal(err)
		}
	}
	setLease(time.Now().Add(time.Minute))
	if _, err := s.SyncOnce(ctx); !errors.Is(err, ErrLeaseHeld) {
		t.Fatalf("SyncOnce under a live lease: %v, want ErrLeaseHeld", err)
	}
	setLease(time.Now().Add(-time.Second))
	deliver(t, mb, 2, 2)
	if n, err := s.SyncOnce(ctx); err != nil || n != 1 {
		t.Fatalf("SyncOnce under a lapsed lease = %d, %v; want 1, nil", n, err)
	}
}
