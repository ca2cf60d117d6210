package desk

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// MaxReplyBytes bounds a staff reply or note.
const MaxReplyBytes = 64 << 10

// reply is a public message from staff to the requester of a case.
type reply struct {
	// AuthorID is the staff member; nil for the system.
	AuthorID *int
	// Body is what they wrote; the reply-above marker, the case marker
	// and the signature are added around it.
	Body string
	// Purpose is the OutboundMail purpose; "" means
	// mailbox.PurposeCaseReply.
	Purpose string
}

// queueReply mails r to the requester of case c (locked in tx) so that an
// answer threads back: our signed Message-ID, In-Reply-To and References
// naming the newest message of the thread, the reply-above marker, the
// signed case marker and the reference in the subject. The reply is also
// stored as an outbound message of the case (the thread and the search
// see it), and the first public reply stops the first-response clock.
func (t *Triage) queueReply(ctx context.Context, tx *store.Tx, c *ent.SupportCase, r reply, now time.Time) (*ent.Message, error) {
	body := strings.TrimSpace(r.Body)
	if body == "" {
		return nil, fmt.Errorf("desk: reply on %s: empty body", c.Reference)
	}
	purpose := r.Purpose
	if purpose == "" {
		purpose = mailbox.PurposeCaseReply
	}
	inReplyTo, refs, err := threadHeaders(ctx, tx.Ent, c.ID)
	if err != nil {
		return nil, err
	}
	subject := "[" + c.Reference + "] Re: " + strings.TrimSpace(strings.TrimPrefix(c.Subject, "Re: "))
	if c.Subject == "" {
		subject = "[" + c.Reference + "] Your request to " + t.siteName
	}
	text := mailbox.ReplyAboveMarker + "\n" + t.signer.Marker(c.Reference) + "\n\n" +
		body + "\n\n-- \n" + t.siteName + " support\n"
	msgID := t.signer.New(c.Reference)
	sent, err := t.outbox.Queue(ctx, tx, mailbox.Mail{
		To:         mail.Address{Name: c.RequesterName, Address: c.RequesterEmail},
		Subject:    subject,
		Text:       text,
		Purpose:    purpose,
		CaseID:     &c.ID,
		InReplyTo:  inReplyTo,
		References: refs,
		MessageID:  msgID,
	})
	if err != nil {
		return nil, fmt.Errorf("desk: reply on %s: %w", c.Reference, err)
	}
	m, err := tx.Ent.Message.Create().
		SetCaseID(c.ID).
		SetMessageIDHeader(msgID).
		SetNillableInReplyTo(nilIfEmpty(inReplyTo)).
		SetReferences(refs).
		SetDirection(message.DirectionOutbound).
		SetVisibility(message.VisibilityPublic).
		SetChannel(message.ChannelDesk).
		SetFromAddress(sent.FromAddress).
		SetFromName(t.siteName).
		SetTo([]string{c.RequesterEmail}).
		SetSubject(subject).
		SetBodyText(body).
		SetNillableAuthorID(r.AuthorID).
		SetReceivedAt(now).
		SetCreatedAt(now).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: store reply on %s: %w", c.Reference, err)
	}
	upd := tx.Ent.SupportCase.UpdateOneID(c.ID).SetLastActivityAt(now).SetUpdatedAt(now)
	c.LastActivityAt = now
	if c.FirstRespondedAt == nil && r.AuthorID != nil {
		c.FirstRespondedAt = &now
		upd.SetFirstRespondedAt(now)
		c.SLADue = nextDue(c)
		if c.SLADue == nil {
			upd.ClearSLADue()
		} else {
			upd.SetSLADue(*c.SLADue)
		}
	}
	if err := upd.Exec(ctx); err != nil {
		return nil, fmt.Errorf("desk: reply on %s: %w", c.Reference, err)
	}
	return m, nil
}

// threadHeaders returns In-Reply-To and References for a new reply on
// caseID: the newest public message, and the thread's IDs oldest first
// (capped, as mail clients do, to keep the header short).
func threadHeaders(ctx context.Context, client *ent.Client, caseID int) (string, []string, error) {
	const maxRefs = 20
	msgs, err := client.Message.Query().
		Where(message.CaseID(caseID), message.VisibilityEQ(message.VisibilityPublic), message.ChannelNEQ(message.ChannelWeb)).
		Order(ent.Desc(message.FieldReceivedAt), ent.Desc(message.FieldID)).
		Select(message.FieldMessageIDHeader).
		Limit(maxRefs).
		All(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("desk: thread of case %d: %w", caseID, err)
	}
	if len(msgs) == 0 {
		return "", []string{}, nil
	}
	refs := make([]string, 0, len(msgs))
	for i := len(msgs) - 1; i >= 0; i-- {
		refs = append(refs, msgs[i].MessageIDHeader)
	}
	return msgs[0].MessageIDHeader, refs, nil
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// caseOpen reports whether staff may still act on c: not merged away.
func caseOpen(c *ent.SupportCase) error {
	if c.MergedIntoID != nil {
		return fmt.Errorf("%w: %s was merged into another case", ErrMerged, c.Reference)
	}
	return nil
}

// ErrMerged is returned for actions on a case merged into another.
var ErrMerged = errors.New("desk: case merged")
