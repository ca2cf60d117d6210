package desk

import (
	"context"
	"fmt"
	"strings"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// Timeline kinds of the actions in this file.
const (
	EventReplied   = "replied"
	EventNoteAdded = "note_added"
)

// ReplyForm is a staff reply as the case page submits it.
type ReplyForm struct {
	Body string
	// Status is where the case goes after the reply; "" means the usual:
	// a new case waits on the requester, any other keeps its status.
	Status string
}

// Reply mails body (placeholders filled in) to the requester of case ref,
// threaded with the case's mail. A new case then waits on the requester.
func (t *Triage) Reply(ctx context.Context, ref string, actor Actor, body string) error {
	return t.ReplyWith(ctx, ref, actor, ReplyForm{Body: body})
}

// ReplyWith is Reply with the status chosen in the same form (one of
// ManualStatuses, field "reply_status").
func (t *Triage) ReplyWith(ctx context.Context, ref string, actor Actor, f ReplyForm) error {
	body, err := checkStaffText("body", f.Body, "Write the reply to the requester.")
	if err != nil {
		return err
	}
	var to supportcase.Status
	if f.Status != "" {
		if to, err = manualTarget("reply_status", f.Status); err != nil {
			return err
		}
	}
	return t.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		u, c, err := t.actOn(ctx, tx, ref, actor)
		if err != nil {
			return err
		}
		now := t.now()
		text, err := t.expand(ctx, tx, c, body, now)
		if err != nil {
			return err
		}
		m, err := t.queueReply(ctx, tx, c, reply{AuthorID: &u.ID, Body: text}, now)
		if err != nil {
			return err
		}
		if err := caseEvent(ctx, tx, c.ID, &u.ID, EventReplied, map[string]any{"message_id": m.MessageIDHeader}, now); err != nil {
			return err
		}
		if to == "" && c.Status == supportcase.StatusNew {
			to = supportcase.StatusWaitingOnRequester
		}
		details := map[string]any{"message_id": m.MessageIDHeader, "bytes": len(text)}
		if to != "" && to != c.Status {
			if err := checkManualMove(c, to, "reply_status"); err != nil {
				return err
			}
			details["status"] = string(to)
			if err := setManualStatus(ctx, tx, c, u.ID, to, "replied", now); err != nil {
				return err
			}
		}
		return auditStaff(ctx, tx, u.ID, "case_replied", c.Reference, details, now)
	})
}

// AddNote adds an internal note to case ref: staff see it on the case
// page; it is never mailed, nor shown on the requester's status page.
func (t *Triage) AddNote(ctx context.Context, ref string, actor Actor, body string) error {
	body, err := checkStaffText("note", body, "Write the note.")
	if err != nil {
		return err
	}
	return t.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		u, c, err := t.actOn(ctx, tx, ref, actor)
		if err != nil {
			return err
		}
		now := t.now()
		m, err := tx.Ent.Message.Create().
			SetCaseID(c.ID).
			SetMessageIDHeader(t.signer.New(c.Reference)).
			SetDirection(message.DirectionNote).
			SetVisibility(message.VisibilityInternal).
			SetChannel(message.ChannelDesk).
			SetFromName(u.Username).
			SetBodyText(body).
			SetAuthorID(u.ID).
			SetReceivedAt(now).
			SetCreatedAt(now).
			Save(ctx)
		if err != nil {
			return fmt.Errorf("desk: note on %s: %w", c.Reference, err)
		}
		if err := tx.Ent.SupportCase.UpdateOneID(c.ID).SetLastActivityAt(now).SetUpdatedAt(now).Exec(ctx); err != nil {
			return fmt.Errorf("desk: note on %s: %w", c.Reference, err)
		}
		if err := caseEvent(ctx, tx, c.ID, &u.ID, EventNoteAdded, map[string]any{"message": m.ID}, now); err != nil {
			return err
		}
		return auditStaff(ctx, tx, u.ID, "case_note_added", c.Reference, map[string]any{"message": m.ID, "bytes": len(body)}, now)
	})
}

// actOn is the start of every staff action on a case: the actor must be
// staff, the case is locked and must not have been merged away.
func (t *Triage) actOn(ctx context.Context, tx *store.Tx, ref string, actor Actor) (*ent.User, *ent.SupportCase, error) {
	u, err := staff(ctx, tx, actor, anyStaff...)
	if err != nil {
		return nil, nil, err
	}
	c, err := lockCaseRef(ctx, tx, ref)
	if err != nil {
		return nil, nil, err
	}
	if err := caseOpen(c); err != nil {
		return nil, nil, err
	}
	return u, c, nil
}

// checkStaffText trims a reply or note and bounds it (field names it).
func checkStaffText(field, s, empty string) (string, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	switch {
	case s == "":
		return "", FieldErrors{field: empty}
	case len(s) > MaxReplyBytes:
		return "", FieldErrors{field: fmt.Sprintf("Shorten this to at most %d bytes (it has %d).", MaxReplyBytes, len(s))}
	}
	return s, nil
}
