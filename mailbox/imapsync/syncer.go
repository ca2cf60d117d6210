package imapsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// Syncer fetches one IMAP mailbox into a MessageHandler.
type Syncer struct {
	cfg     Config
	target  target
	leases  leases
	handler mailbox.MessageHandler
	log     *slog.Logger
}

// New returns a Syncer for cfg.URL's mailbox, storing its checkpoint and
// lease through client.
func New(client *ent.Client, handler mailbox.MessageHandler, cfg Config) (*Syncer, error) {
	if client == nil || handler == nil {
		return nil, errors.New("imapsync: New needs an ent client and a handler")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	t, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if !t.tls && !isLoopback(t.serverName) {
		cfg.Logger.Warn("imapsync: imap:// sends the password in clear text; use imaps:// for a remote server", "addr", t.addr)
	}
	return &Syncer{
		cfg:     cfg,
		target:  t,
		leases:  leases{client: client, mailbox: t.key(), owner: cfg.Owner, ttl: cfg.LeaseTTL, now: time.Now},
		handler: handler,
		log:     cfg.Logger.With("component", "imapsync", "mailbox", t.key()),
	}, nil
}

// releaseLease gives the lease up even when ctx is already cancelled (the
// usual case on stop), so another worker need not wait out the TTL.
func (s *Syncer) releaseLease(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return s.leases.release(ctx)
}

// Mailbox is the name of the mailbox in checkpoints and in
// mailbox.Fetched: user@host:port/mailbox.
func (s *Syncer) Mailbox() string { return s.leases.mailbox }

// SyncOnce takes the lease, connects, hands every new message to the
// handler, and releases the lease. It returns how many messages the
// handler accepted; an error wrapping ErrLeaseHeld when another worker
// holds the mailbox.
func (s *Syncer) SyncOnce(ctx context.Context) (fetched int, err error) {
	cp, err := s.leases.acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer func() {
		if rerr := s.releaseLease(ctx); rerr != nil && err == nil {
			err = rerr
		}
	}()
	cn, err := dial(ctx, s.target)
	if err != nil {
		return 0, err
	}
	defer cn.close()
	if err := s.syncCheckpoint(ctx, s.leases, &cp, cn.sel); err != nil {
		return 0, err
	}
	return s.fetchNew(ctx, s.leases, cn, &cp)
}

// Run fetches the mailbox until ctx ends, then releases the lease and
// returns nil. It waits for new mail with IDLE (or polls), reconnects with
// backoff when the server drops, and stands by while another worker holds
// the lease. Other errors are logged, not returned: ingestion must outlive
// a flaky server.
func (s *Syncer) Run(ctx context.Context) error {
	defer func() {
		if err := s.releaseLease(ctx); err != nil {
			s.log.Error("imapsync: release lease", "err", err)
		}
	}()
	b := newBackoff(s.cfg.Backoff.Min, s.cfg.Backoff.Max)
	for ctx.Err() == nil {
		progressed, err := s.session(ctx)
		if ctx.Err() != nil {
			break
		}
		var d time.Duration
		switch {
		case errors.Is(err, ErrLeaseHeld):
			// Not a failure: look again about when a dead holder's lease
			// would lapse.
			s.log.Debug("imapsync: standing by", "err", err)
			d = s.cfg.LeaseTTL / 2
		default:
			if progressed {
				b.reset()
			}
			d = b.wait()
			s.log.Warn("imapsync: mailbox session ended; reconnecting", "err", err, "in", d)
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	return nil
}

// session is one connection's life: take the lease, connect, then fetch
// and wait until something fails. progressed says whether the connection
// got as far as a completed fetch, to reset the backoff.
func (s *Syncer) session(ctx context.Context) (progressed bool, err error) {
	cp, err := s.leases.acquire(ctx)
	if err != nil {
		return false, err
	}
	cn, err := dial(ctx, s.target)
	if err != nil {
		return false, err
	}
	defer cn.close()
	s.log.Info("imapsync: connected", "idle", cn.idle, "messages", cn.sel.NumMessages, "uidvalidity", cn.sel.UIDValidity)
	if err := s.syncCheckpoint(ctx, s.leases, &cp, cn.sel); err != nil {
		return false, err
	}
	for {
		n, err := s.fetchNew(ctx, s.leases, cn, &cp)
		if n > 0 {
			s.log.Info("imapsync: fetched", "count", n, "last_uid", cp.lastUID)
		}
		if err != nil {
			return progressed, err
		}
		progressed = true
		if err := s.waitForMail(ctx, s.leases, cn); err != nil {
			return progressed, fmt.Errorf("imapsync: waiting for mail: %w", err)
		}
	}
}
