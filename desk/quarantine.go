package desk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/quarantinedmessage"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// ErrStillUnparseable is Retry's answer when the message still cannot be
// stored; the quarantine entry stays pending with the new error.
var ErrStillUnparseable = errors.New("desk: quarantined message still cannot be stored")

// quarantine keeps f, which cannot be stored, with the reason, once per
// (mailbox, UIDVALIDITY, UID), and lets ingestion move on.
func (in *Inbound) quarantine(ctx context.Context, f mailbox.Fetched, reason error) error {
	return in.quarantineWith(ctx, in.st.Ent, f, reason)
}

// quarantineWith is quarantine through client (a batch's transaction).
func (in *Inbound) quarantineWith(ctx context.Context, client *ent.Client, f mailbox.Fetched, reason error) error {
	raw := f.Raw
	if raw == nil {
		raw = []byte{}
	}
	err := client.QuarantinedMessage.Create().
		SetMailbox(f.Mailbox).
		SetImapUID(f.UID).
		SetImapUidvalidity(f.UIDValidity).
		SetRaw(raw).
		SetError(clean(reason.Error())).
		SetStatus(quarantinedmessage.StatusPending).
		OnConflictColumns(quarantinedmessage.FieldMailbox, quarantinedmessage.FieldImapUidvalidity, quarantinedmessage.FieldImapUID).
		DoNothing().
		Exec(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("desk: quarantine %s uid %d/%d: %w", f.Mailbox, f.UIDValidity, f.UID, err)
	}
	in.log.WarnContext(ctx, "desk: quarantined message", "mailbox", f.Mailbox, "uidvalidity", f.UIDValidity, "uid", f.UID, "error", reason)
	return nil
}

// ListQuarantine returns the quarantined messages with status, oldest
// first.
func ListQuarantine(ctx context.Context, client *ent.Client, status quarantinedmessage.Status) ([]*ent.QuarantinedMessage, error) {
	l, err := client.QuarantinedMessage.Query().
		Where(quarantinedmessage.StatusEQ(status)).
		Order(ent.Asc(quarantinedmessage.FieldCreatedAt), ent.Asc(quarantinedmessage.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: list %s quarantine: %w", status, err)
	}
	return l, nil
}

// Retry stores quarantined message id as if it had just been fetched (for
// after a parser fix). On success it is marked retried; if it still
// cannot be stored it stays pending with the new error and Retry returns
// ErrStillUnparseable.
func (in *Inbound) Retry(ctx context.Context, id int) error {
	q, err := in.st.Ent.QuarantinedMessage.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("desk: retry quarantined message %d: %w", id, err)
	}
	err = in.process(ctx, mailbox.Fetched{Mailbox: q.Mailbox, UIDValidity: q.ImapUidvalidity, UID: q.ImapUID, Raw: q.Raw})
	var ue *unstorableError
	if errors.As(err, &ue) {
		if err := in.st.Ent.QuarantinedMessage.UpdateOne(q).SetError(clean(ue.Error())).Exec(ctx); err != nil {
			return fmt.Errorf("desk: retry quarantined message %d: %w", id, err)
		}
		return fmt.Errorf("%w: %d: %w", ErrStillUnparseable, id, ue.err)
	}
	if err != nil {
		return fmt.Errorf("desk: retry quarantined message %d: %w", id, err)
	}
	if err := in.st.Ent.QuarantinedMessage.UpdateOne(q).SetStatus(quarantinedmessage.StatusRetried).Exec(ctx); err != nil {
		return fmt.Errorf("desk: retry quarantined message %d: %w", id, err)
	}
	return nil
}

// Discard marks quarantined message id as not worth keeping in the queue;
// its bytes stay for the record.
func (in *Inbound) Discard(ctx context.Context, id int) error {
	if err := in.st.Ent.QuarantinedMessage.UpdateOneID(id).SetStatus(quarantinedmessage.StatusDiscarded).Exec(ctx); err != nil {
		return fmt.Errorf("desk: discard quarantined message %d: %w", id, err)
	}
	return nil
}
