package imapsync

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// errClosed is returned when the server dropped the connection.
var errClosed = errors.New("imapsync: connection closed by server")

// waitForMail blocks until the server reports new messages (IDLE), the
// poll interval passes, ctx ends or the connection drops. It renews the
// lease meanwhile. It returns nil when it is time to fetch again.
func (s *Syncer) waitForMail(ctx context.Context, l leases, cn *conn) error {
	poll := time.NewTimer(s.cfg.PollInterval)
	defer poll.Stop()
	renew := time.NewTicker(s.cfg.LeaseTTL / 3)
	defer renew.Stop()

	if cn.idle {
		cmd, err := cn.c.Idle()
		if err != nil {
			return fmt.Errorf("imapsync: idle on %s: %w", l.mailbox, err)
		}
		defer func() {
			// Ending IDLE writes DONE; its reply arrives with the next
			// command, and a dead connection fails that command.
			_ = cmd.Close()
		}()
	}
	// A report that arrived during the last fetch is already waiting in
	// cn.changed; with IDLE it makes this return at once.
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-cn.c.Closed():
			return errClosed
		case <-cn.changed:
			return nil
		case <-poll.C:
			return nil
		case <-renew.C:
			if err := l.renew(ctx); err != nil {
				return err
			}
		}
	}
}
