package desk

import (
	"context"
	"fmt"
	"slices"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/caseparticipant"
	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
)

// NewThreadLookup returns the ThreadLookup over the stored cases of
// client (a transaction's client, to thread and store in one go).
func NewThreadLookup(client *ent.Client) ThreadLookup {
	return dbLookup{client: client}
}

// dbLookup answers Thread's questions from the database.
type dbLookup struct {
	client *ent.Client
}

// CaseByMessageID looks in the stored messages and in our sent mail (a
// reply to an acknowledgement names the acknowledgement), and returns the
// case of the ID earliest in ids.
func (l dbLookup) CaseByMessageID(ctx context.Context, ids []string) (int, bool, error) {
	if len(ids) == 0 {
		return 0, false, nil
	}
	caseOf := map[string]int{}
	msgs, err := l.client.Message.Query().
		Where(message.MessageIDHeaderIn(ids...), message.CaseIDNotNil()).
		Select(message.FieldMessageIDHeader, message.FieldCaseID).
		All(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("desk: messages by id: %w", err)
	}
	for _, m := range msgs {
		caseOf[m.MessageIDHeader] = *m.CaseID
	}
	sent, err := l.client.OutboundMail.Query().
		Where(outboundmail.MessageIDHeaderIn(ids...), outboundmail.CaseIDNotNil()).
		Select(outboundmail.FieldMessageIDHeader, outboundmail.FieldCaseID).
		All(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("desk: sent mail by id: %w", err)
	}
	for _, m := range sent {
		if _, ok := caseOf[m.MessageIDHeader]; !ok {
			caseOf[m.MessageIDHeader] = *m.CaseID
		}
	}
	i := slices.IndexFunc(ids, func(id string) bool { _, ok := caseOf[id]; return ok })
	if i < 0 {
		return 0, false, nil
	}
	// A reply to mail of a merged case belongs to the case it went into.
	id, err := survivorID(ctx, l.client, caseOf[ids[i]])
	if err != nil {
		return 0, false, err
	}
	return id, true, nil
}

// CaseByReference finds the case with reference ref, or the case it was
// merged into.
func (l dbLookup) CaseByReference(ctx context.Context, ref string) (int, bool, error) {
	id, err := l.client.SupportCase.Query().Where(supportcase.Reference(ref)).OnlyID(ctx)
	if ent.IsNotFound(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("desk: case %s: %w", ref, err)
	}
	if id, err = survivorID(ctx, l.client, id); err != nil {
		return 0, false, err
	}
	return id, true, nil
}

// IsParticipant reports whether address is a participant of the case.
func (l dbLookup) IsParticipant(ctx context.Context, caseID int, address string) (bool, error) {
	ok, err := l.client.CaseParticipant.Query().
		Where(caseparticipant.CaseID(caseID), caseparticipant.EmailNormalized(address)).
		Exist(ctx)
	if err != nil {
		return false, fmt.Errorf("desk: participant of case %d: %w", caseID, err)
	}
	return ok, nil
}
