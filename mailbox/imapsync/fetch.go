package imapsync

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/recoverydesk/recoverydesk/mailbox"
)

// syncCheckpoint reconciles the checkpoint with the selected mailbox:
// under a new UIDVALIDITY, or when the server's UIDNEXT says it never
// assigned last_uid (a server that lost its mail without changing
// UIDVALIDITY), it starts over from UID 1. Handled messages then come
// again and are dropped downstream by Message-ID.
func (s *Syncer) syncCheckpoint(ctx context.Context, l leases, cp *checkpoint, sel *imap.SelectData) error {
	backwards := sel.UIDNext != 0 && uint32(sel.UIDNext) <= cp.lastUID
	if cp.uidValidity == sel.UIDValidity && !backwards {
		return nil
	}
	if cp.uidValidity != 0 || cp.lastUID != 0 {
		s.log.Warn("imapsync: mailbox was reset; fetching it again from UID 1 (Message-ID deduplication drops what was already stored)",
			"mailbox", l.mailbox, "old_uidvalidity", cp.uidValidity, "new_uidvalidity", sel.UIDValidity,
			"last_uid", cp.lastUID, "uidnext", sel.UIDNext)
	}
	if err := l.reset(ctx, sel.UIDValidity); err != nil {
		return err
	}
	*cp = checkpoint{uidValidity: sel.UIDValidity}
	return nil
}

// newUIDs lists the mailbox's UIDs above last, ascending. "last+1:*"
// always matches the highest UID, even when it is <= last, hence the
// filter.
func newUIDs(c *imapclient.Client, last uint32) ([]imap.UID, error) {
	var set imap.UIDSet
	set.AddRange(imap.UID(last+1), 0) // 0 is "*"
	data, err := c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{set}}, nil).Wait()
	if err != nil {
		return nil, fmt.Errorf("imapsync: search uid %d:*: %w", last+1, err)
	}
	uids := slices.DeleteFunc(data.AllUIDs(), func(u imap.UID) bool { return uint32(u) <= last })
	slices.Sort(uids)
	return uids, nil
}

// fetchNew hands every message above the checkpoint to the handler, in
// UID order, advancing the checkpoint after each handover. A handler
// error stops the pass with the checkpoint before that message or batch.
func (s *Syncer) fetchNew(ctx context.Context, l leases, cn *conn, cp *checkpoint) (int, error) {
	uids, err := newUIDs(cn.c, cp.lastUID)
	if err != nil {
		return 0, err
	}
	fetched := 0
	for batch := range slices.Chunk(uids, s.cfg.BatchSize) {
		// A long backlog may outlast the lease; renew it per batch.
		if err := l.renew(ctx); err != nil {
			return fetched, err
		}
		n, err := s.fetchBatch(ctx, l, cn.c, cp, batch)
		fetched += n
		if err != nil {
			return fetched, err
		}
	}
	return fetched, nil
}

// maxBatchBytes bounds the raw bytes of messages held for one HandleBatch,
// so a run of large messages is handed over a few at a time.
const maxBatchBytes = 16 << 20

// fetchBatch fetches the messages of uids and hands them to the handler:
// all at once when it takes batches (flushed early at maxBatchBytes), else
// one by one. The checkpoint advances after each handover.
func (s *Syncer) fetchBatch(ctx context.Context, l leases, c *imapclient.Client, cp *checkpoint, batch []imap.UID) (int, error) {
	section := &imap.FetchItemBodySection{Peek: true}
	cmd := c.Fetch(imap.UIDSetNum(batch...), &imap.FetchOptions{
		UID:         true,
		BodySection: []*imap.FetchItemBodySection{section},
	})
	// Close drains what the server still sends, so an early return leaves
	// the connection usable.
	defer cmd.Close()
	bh, batches := s.handler.(mailbox.BatchHandler)
	var (
		pending []mailbox.Fetched
		size    int
		fetched int
	)
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		last := pending[len(pending)-1].UID
		var err error
		if len(pending) == 1 || !batches {
			err = s.handler.HandleMessage(ctx, pending[0])
		} else {
			err = bh.HandleBatch(ctx, pending)
		}
		if err != nil {
			return fmt.Errorf("imapsync: handle %s uids %d-%d: %w", l.mailbox, pending[0].UID, last, err)
		}
		// The handler has stored them: record that even if ctx was just
		// cancelled, so a stop does not cause a needless refetch.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err = l.advance(actx, cp.uidValidity, last)
		cancel()
		if err != nil {
			return err
		}
		cp.lastUID = last
		fetched += len(pending)
		pending, size = pending[:0], 0
		return nil
	}
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		uid, raw, err := readMessage(msg)
		if err != nil {
			return fetched, err
		}
		if uid == 0 || uint32(uid) <= cp.lastUID || len(pending) > 0 && uint32(uid) <= pending[len(pending)-1].UID {
			continue
		}
		pending = append(pending, mailbox.Fetched{Mailbox: l.mailbox, UIDValidity: cp.uidValidity, UID: uint32(uid), Raw: raw})
		size += len(raw)
		if !batches || size >= maxBatchBytes {
			if err := flush(); err != nil {
				return fetched, err
			}
		}
	}
	if err := flush(); err != nil {
		return fetched, err
	}
	if err := cmd.Close(); err != nil {
		return fetched, fmt.Errorf("imapsync: fetch from %s: %w", l.mailbox, err)
	}
	return fetched, nil
}

// readMessage reads one FETCH response: its UID and the whole body
// literal (which must be consumed before the next response).
func readMessage(msg *imapclient.FetchMessageData) (imap.UID, []byte, error) {
	var (
		uid imap.UID
		raw []byte
	)
	for {
		item := msg.Next()
		if item == nil {
			break
		}
		switch item := item.(type) {
		case imapclient.FetchItemDataUID:
			uid = item.UID
		case imapclient.FetchItemDataBodySection:
			if item.Literal == nil {
				continue
			}
			b, err := readLiteral(item.Literal)
			if err != nil {
				return 0, nil, fmt.Errorf("imapsync: read message %d: %w", msg.SeqNum, err)
			}
			raw = b
		}
	}
	if raw == nil {
		return 0, nil, fmt.Errorf("imapsync: message %d (uid %d) came without a body", msg.SeqNum, uid)
	}
	return uid, raw, nil
}

// readLiteral reads a literal into a buffer of its announced size, so a
// large message is held once rather than in a doubling buffer.
func readLiteral(r imap.LiteralReader) ([]byte, error) {
	n := r.Size()
	if n <= 0 || n > maxLiteral {
		return io.ReadAll(r)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// maxLiteral is the largest size trusted for preallocation; a server
// announcing more is read as it comes.
const maxLiteral = 256 << 20
