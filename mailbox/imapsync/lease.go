package imapsync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/mailboxcheckpoint"
)

// ErrLeaseHeld is wrapped by SyncOnce's error when another worker holds
// the mailbox's lease; the message names the holder.
var ErrLeaseHeld = errors.New("imapsync: mailbox lease held by another worker")

// ErrLeaseLost is wrapped when this worker's lease was taken over (it
// lapsed, e.g. during a long network stall); the Syncer stops fetching.
var ErrLeaseLost = errors.New("imapsync: mailbox lease lost")

// checkpoint is the part of the MailboxCheckpoint row the fetch loop uses.
type checkpoint struct {
	uidValidity uint32
	lastUID     uint32
}

// leases reads and writes the checkpoint row of one mailbox as one owner.
// Every write is conditional on lease_owner, so a worker whose lease was
// taken over cannot move the checkpoint.
type leases struct {
	client  *ent.Client
	mailbox string
	owner   string
	ttl     time.Duration
	now     func() time.Time
}

// acquire takes or renews the lease and returns the checkpoint.
func (l leases) acquire(ctx context.Context) (checkpoint, error) {
	// Make sure the row exists; a concurrent creator wins harmlessly.
	err := l.client.MailboxCheckpoint.Create().SetMailbox(l.mailbox).Exec(ctx)
	if err != nil && !ent.IsConstraintError(err) {
		return checkpoint{}, fmt.Errorf("imapsync: create checkpoint for %s: %w", l.mailbox, err)
	}
	now := l.now()
	n, err := l.client.MailboxCheckpoint.Update().
		Where(mailboxcheckpoint.Mailbox(l.mailbox), mailboxcheckpoint.Or(
			mailboxcheckpoint.LeaseOwnerIsNil(),
			mailboxcheckpoint.LeaseOwnerEQ(l.owner),
			mailboxcheckpoint.LeaseExpiresAtIsNil(),
			mailboxcheckpoint.LeaseExpiresAtLT(now),
		)).
		SetLeaseOwner(l.owner).
		SetLeaseExpiresAt(now.Add(l.ttl)).
		Save(ctx)
	if err != nil {
		return checkpoint{}, fmt.Errorf("imapsync: take lease on %s: %w", l.mailbox, err)
	}
	row, err := l.client.MailboxCheckpoint.Query().Where(mailboxcheckpoint.Mailbox(l.mailbox)).Only(ctx)
	if err != nil {
		return checkpoint{}, fmt.Errorf("imapsync: read checkpoint of %s: %w", l.mailbox, err)
	}
	if n == 0 {
		holder, until := "", time.Time{}
		if row.LeaseOwner != nil {
			holder = *row.LeaseOwner
		}
		if row.LeaseExpiresAt != nil {
			until = *row.LeaseExpiresAt
		}
		return checkpoint{}, fmt.Errorf("%w: %s holds %s until %s", ErrLeaseHeld, holder, l.mailbox, until.Format(time.RFC3339))
	}
	return checkpoint{uidValidity: row.Uidvalidity, lastUID: row.LastUID}, nil
}

// renew extends a lease this owner holds.
func (l leases) renew(ctx context.Context) error {
	n, err := l.client.MailboxCheckpoint.Update().
		Where(mailboxcheckpoint.Mailbox(l.mailbox), mailboxcheckpoint.LeaseOwnerEQ(l.owner)).
		SetLeaseExpiresAt(l.now().Add(l.ttl)).
		Save(ctx)
	if err != nil {
		return fmt.Errorf("imapsync: renew lease on %s: %w", l.mailbox, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s", ErrLeaseLost, l.mailbox)
	}
	return nil
}

// release gives the lease up, so another worker may take over at once.
func (l leases) release(ctx context.Context) error {
	_, err := l.client.MailboxCheckpoint.Update().
		Where(mailboxcheckpoint.Mailbox(l.mailbox), mailboxcheckpoint.LeaseOwnerEQ(l.owner)).
		ClearLeaseOwner().
		ClearLeaseExpiresAt().
		Save(ctx)
	if err != nil {
		return fmt.Errorf("imapsync: release lease on %s: %w", l.mailbox, err)
	}
	return nil
}

// reset starts the checkpoint over for a new UIDVALIDITY.
func (l leases) reset(ctx context.Context, uidValidity uint32) error {
	n, err := l.client.MailboxCheckpoint.Update().
		Where(mailboxcheckpoint.Mailbox(l.mailbox), mailboxcheckpoint.LeaseOwnerEQ(l.owner)).
		SetUidvalidity(uidValidity).
		SetLastUID(0).
		Save(ctx)
	if err != nil {
		return fmt.Errorf("imapsync: reset checkpoint of %s: %w", l.mailbox, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s", ErrLeaseLost, l.mailbox)
	}
	return nil
}

// advance records uid as handled. The checkpoint never moves backwards,
// and not at all under a different UIDVALIDITY.
func (l leases) advance(ctx context.Context, uidValidity, uid uint32) error {
	n, err := l.client.MailboxCheckpoint.Update().
		Where(
			mailboxcheckpoint.Mailbox(l.mailbox),
			mailboxcheckpoint.LeaseOwnerEQ(l.owner),
			mailboxcheckpoint.Uidvalidity(uidValidity),
			mailboxcheckpoint.LastUIDLT(uid),
		).
		SetLastUID(uid).
		Save(ctx)
	if err != nil {
		return fmt.Errorf("imapsync: advance checkpoint of %s to uid %d: %w", l.mailbox, uid, err)
	}
	if n == 1 {
		return nil
	}
	// Nothing moved: fine if we are still the holder (already that far),
	// otherwise the lease is gone.
	return l.renew(ctx)
}
