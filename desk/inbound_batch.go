package desk

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

var _ mailbox.BatchHandler = (*Inbound)(nil)

// HandleBatch stores ms so that a backlog costs a few commits per batch
// rather than one per message. Parsing runs on every core first. The
// batch is then split into lanes that share no thread, sender or case
// (see lanes), each stored in one transaction, concurrently, in batch
// order, so later messages see the cases earlier ones opened. What does
// not parse, or has no sender to open a case for, is quarantined in the
// same transaction. If a lane's transaction fails for any other reason
// (data PostgreSQL refuses, a reference collision, a deadlock with
// another lane, another worker storing the same message), it is rolled
// back and each of its messages is handled alone by HandleMessage: one
// bad message costs its lane a second pass, never a loss.
func (in *Inbound) HandleBatch(ctx context.Context, ms []mailbox.Fetched) error {
	prepared, errs := in.prepareAll(ms)
	groups := lanes(prepared, errs, in.opts.lanes(), in.signer)
	failed := make([]error, len(groups))
	var wg sync.WaitGroup
	for g, lane := range groups {
		wg.Go(func() {
			failed[g] = in.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
				return in.storeLane(ctx, tx, ms, prepared, errs, lane)
			})
		})
	}
	wg.Wait()
	for g, err := range failed {
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return fmt.Errorf("desk: handle batch of %d: %w", len(ms), err)
		}
		in.log.InfoContext(ctx, "desk: batch lane failed; storing its messages one by one", "messages", len(groups[g]), "err", err)
		for _, i := range groups[g] {
			if err := in.HandleMessage(ctx, ms[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// storeLane stores the messages lane names, in order, in tx.
func (in *Inbound) storeLane(ctx context.Context, tx *store.Tx, ms []mailbox.Fetched, prepared []incoming, errs []error, lane []int) error {
	stored, err := storedIDs(ctx, tx, prepared, errs, lane)
	if err != nil {
		return err
	}
	for _, i := range lane {
		m := prepared[i]
		if errs[i] != nil {
			if err := in.quarantineWith(ctx, tx.Ent, ms[i], errors.Unwrap(errs[i])); err != nil {
				return err
			}
			continue
		}
		if stored[m.msgID] {
			continue
		}
		stored[m.msgID] = true
		err := in.storeTx(ctx, tx, m)
		if errors.Is(err, errNoSender) {
			err = in.quarantineWith(ctx, tx.Ent, ms[i], err)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// prepareAll prepares ms on every core; errs[i] is ms[i]'s error.
func (in *Inbound) prepareAll(ms []mailbox.Fetched) ([]incoming, []error) {
	out := make([]incoming, len(ms))
	errs := make([]error, len(ms))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(ms)) {
		wg.Go(func() {
			for i := range next {
				out[i], errs[i] = in.prepare(ms[i])
			}
		})
	}
	for i := range ms {
		next <- i
	}
	close(next)
	wg.Wait()
	return out, errs
}

// storedIDs returns which of the lane's Message-IDs are already stored,
// in one query.
func storedIDs(ctx context.Context, tx *store.Tx, ms []incoming, errs []error, lane []int) (map[string]bool, error) {
	var mbox string
	ids := make([]string, 0, len(lane))
	for _, i := range lane {
		if errs[i] == nil {
			ids, mbox = append(ids, ms[i].msgID), ms[i].f.Mailbox
		}
	}
	if len(ids) == 0 {
		return map[string]bool{}, nil
	}
	found, err := tx.Ent.Message.Query().
		Where(message.Mailbox(mbox), message.MessageIDHeaderIn(ids...)).
		Select(message.FieldMessageIDHeader).
		Strings(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: look up %d message ids: %w", len(ids), err)
	}
	stored := make(map[string]bool, len(found))
	for _, id := range found {
		stored[id] = true
	}
	return stored, nil
}
