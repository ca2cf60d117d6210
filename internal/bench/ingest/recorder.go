package ingest

import (
	"context"
	"sync"
	"time"

	"github.com/recoverydesk/recoverydesk/mailbox"
)

// recorder wraps the product's handler: it notes when each UID's
// transaction committed (the handler returned) and wakes whoever waits for
// a count. It passes batches on when the handler takes them.
type recorder struct {
	next mailbox.MessageHandler

	mu        sync.Mutex
	committed map[uint32]time.Time
	changed   chan struct{}
}

func newRecorder(next mailbox.MessageHandler) *recorder {
	return &recorder{next: next, committed: map[uint32]time.Time{}, changed: make(chan struct{}, 1)}
}

func (r *recorder) HandleMessage(ctx context.Context, m mailbox.Fetched) error {
	if err := r.next.HandleMessage(ctx, m); err != nil {
		return err
	}
	r.note(time.Now(), m)
	return nil
}

func (r *recorder) HandleBatch(ctx context.Context, ms []mailbox.Fetched) error {
	b, ok := r.next.(mailbox.BatchHandler)
	if !ok {
		for _, m := range ms {
			if err := r.HandleMessage(ctx, m); err != nil {
				return err
			}
		}
		return nil
	}
	if err := b.HandleBatch(ctx, ms); err != nil {
		return err
	}
	r.note(time.Now(), ms...)
	return nil
}

func (r *recorder) note(at time.Time, ms ...mailbox.Fetched) {
	r.mu.Lock()
	for _, m := range ms {
		if _, seen := r.committed[m.UID]; !seen {
			r.committed[m.UID] = at
		}
	}
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// waitAbove blocks until n UIDs above floor have committed.
func (r *recorder) waitAbove(ctx context.Context, floor uint32, n int) error {
	for {
		r.mu.Lock()
		got := 0
		for uid := range r.committed {
			if uid > floor {
				got++
			}
		}
		r.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.changed:
		}
	}
}

// commitTime returns when uid committed.
func (r *recorder) commitTime(uid uint32) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.committed[uid]
	return t, ok
}
