package desk

import (
	"context"
	"fmt"
	"strings"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// bounceOf reads a delivery report: a standard DSN when the message is
// one, else the free-text notices of mail systems that send none. The
// original Message-ID comes from the report or, failing that, from the
// returned message.
func bounceOf(p *mailbox.Parsed, class mailbox.Class) (mailbox.Bounce, bool) {
	var b mailbox.Bounce
	ok := false
	if class.Bounce && len(p.DeliveryStatus) > 0 {
		var err error
		b, err = mailbox.ParseDSN(p.DeliveryStatus, nil)
		ok = err == nil
	}
	if !ok {
		b, ok = mailbox.ParseNonStandardBounce(p.Subject, p.From.Address, p.Text)
	}
	if !ok {
		return mailbox.Bounce{}, false
	}
	for _, n := range p.Nested {
		if b.OriginalMessageID != "" {
			break
		}
		b.OriginalMessageID = n.MessageID
	}
	return b, true
}

// bounceTx records a delivery report on the mail it is about. A bounce
// never opens a case and is not stored as a message: the mail's status
// and a case event say everything staff need. A permanent failure marks
// the mail bounced; a delay only notes the reason, since the mail may
// still arrive. A report about no mail of ours is logged and dropped.
func (in *Inbound) bounceTx(ctx context.Context, tx *store.Tx, msgID string, b mailbox.Bounce) error {
	orig := mailbox.NormalizeMessageID(b.OriginalMessageID)
	if orig == "" {
		in.log.InfoContext(ctx, "desk: dropped bounce without original message-id", "message_id", msgID, "recipient", b.Recipient)
		return nil
	}
	sent, err := tx.Ent.OutboundMail.Query().Where(outboundmail.MessageIDHeader(orig)).ForUpdate().Only(ctx)
	if ent.IsNotFound(err) {
		in.log.InfoContext(ctx, "desk: dropped bounce of unknown mail", "message_id", msgID, "original", orig)
		return nil
	}
	if err != nil {
		return fmt.Errorf("find bounced mail %s: %w", orig, err)
	}
	if sent.Status == outboundmail.StatusBounced {
		return nil // the same report again, or a second one
	}
	now := in.opts.Now()
	reason := strings.TrimSpace(strings.Join([]string{b.Status, b.Diagnostic}, " "))
	kind := "mail_delayed"
	upd := tx.Ent.OutboundMail.UpdateOne(sent).SetLastError(clean(reason)).SetUpdatedAt(now)
	if b.Permanent {
		kind = "mail_bounced"
		upd.SetStatus(outboundmail.StatusBounced).SetBouncedAt(now)
	}
	if err := upd.Exec(ctx); err != nil {
		return fmt.Errorf("mark mail %d bounced: %w", sent.ID, err)
	}
	if sent.CaseID == nil {
		return nil
	}
	return caseEvent(ctx, tx, *sent.CaseID, nil, kind, map[string]any{
		"outbound_mail_id": sent.ID, "recipient": clean(b.Recipient), "status": clean(b.Status),
		"diagnostic": clean(b.Diagnostic), "report_message_id": msgID,
	}, now)
}
