package desk

import (
	"context"
	"fmt"
	"sort"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// Timeline kinds of a merge: on the duplicate ("into": the survivor's
// reference) and on the survivor ("from": the duplicate's, with what
// moved).
const (
	EventMergedInto = "merged_into"
	EventMergedFrom = "merged_from"
)

// maxMergeHops bounds following merged_into_id, in case of a cycle no
// code path should create.
const maxMergeHops = 32

// MergeResult says what a merge moved.
type MergeResult struct {
	Into                          string
	Messages, Mails, Evidence     int
	Participants, SkippedEvidence int
}

// Merge folds the duplicate case dupRef into intoRef: its messages,
// outbound mail, evidence (except items the survivor already has under
// the same dedupe key) and participants (except addresses the survivor
// already has) move to the survivor; challenges stay with the duplicate,
// which is closed and points at the survivor. A bad survivor gives
// FieldErrors{"into"}.
func (t *Triage) Merge(ctx context.Context, dupRef, intoRef string, actor Actor) (MergeResult, error) {
	dupNorm, ok := NormalizeReference(dupRef)
	if !ok {
		return MergeResult{}, ErrNotFound
	}
	intoNorm, ok := NormalizeReference(intoRef)
	if !ok {
		return MergeResult{}, FieldErrors{"into": "Enter the reference of the case to merge into, like RD-7K3F9Q."}
	}
	if dupNorm == intoNorm {
		return MergeResult{}, FieldErrors{"into": "A case cannot be merged into itself; enter the reference of the other case."}
	}
	var res MergeResult
	err := t.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		u, err := staff(ctx, tx, actor, anyStaff...)
		if err != nil {
			return err
		}
		dup, into, err := lockPair(ctx, tx, dupNorm, intoNorm)
		if err != nil {
			return err
		}
		if err := caseOpen(dup); err != nil {
			return err
		}
		switch {
		case into == nil:
			return FieldErrors{"into": "No case has the reference " + intoNorm + "."}
		case into.MergedIntoID != nil:
			return FieldErrors{"into": intoNorm + " was itself merged into another case; merge into that one."}
		case into.Status == supportcase.StatusResetScheduled:
			return FieldErrors{"into": intoNorm + " has a reset scheduled; it cannot take in another case now."}
		case dup.Status == supportcase.StatusResetScheduled:
			return FieldErrors{"into": "This case has a reset scheduled; cancel the reset before merging it."}
		}
		now := t.now()
		if res.Messages, err = tx.Ent.Message.Update().Where(message.CaseID(dup.ID)).SetCaseID(into.ID).Save(ctx); err != nil {
			return fmt.Errorf("desk: merge %s: messages: %w", dup.Reference, err)
		}
		if res.Mails, err = tx.Ent.OutboundMail.Update().Where(outboundmail.CaseID(dup.ID)).SetCaseID(into.ID).Save(ctx); err != nil {
			return fmt.Errorf("desk: merge %s: mail: %w", dup.Reference, err)
		}
		// case_id is immutable for ent (items and participants belong to
		// one case); a merge is the one move there is, in SQL.
		tag, err := tx.Pgx.Exec(ctx, `UPDATE evidence_items e SET case_id = $2 WHERE e.case_id = $1
			AND NOT EXISTS (SELECT 1 FROM evidence_items s WHERE s.case_id = $2 AND s.dedupe_key = e.dedupe_key)`, dup.ID, into.ID)
		if err != nil {
			return fmt.Errorf("desk: merge %s: evidence: %w", dup.Reference, err)
		}
		res.Evidence = int(tag.RowsAffected())
		if err := tx.Pgx.QueryRow(ctx, `SELECT count(*) FROM evidence_items WHERE case_id = $1`, dup.ID).Scan(&res.SkippedEvidence); err != nil {
			return fmt.Errorf("desk: merge %s: evidence: %w", dup.Reference, err)
		}
		tag, err = tx.Pgx.Exec(ctx, `UPDATE case_participants p SET case_id = $2 WHERE p.case_id = $1
			AND NOT EXISTS (SELECT 1 FROM case_participants s WHERE s.case_id = $2 AND s.email_normalized = p.email_normalized)`, dup.ID, into.ID)
		if err != nil {
			return fmt.Errorf("desk: merge %s: participants: %w", dup.Reference, err)
		}
		res.Participants = int(tag.RowsAffected())
		res.Into = into.Reference

		if err := tx.Ent.SupportCase.UpdateOneID(dup.ID).SetMergedIntoID(into.ID).SetUpdatedAt(now).Exec(ctx); err != nil {
			return fmt.Errorf("desk: merge %s: %w", dup.Reference, err)
		}
		reason := "merged into " + into.Reference
		if err := setStatus(ctx, tx, dup, &u.ID, supportcase.StatusClosed, reason, now); err != nil {
			return err
		}
		dup.MergedIntoID = &into.ID
		if err := tx.Ent.SupportCase.UpdateOneID(into.ID).SetLastActivityAt(now).SetUpdatedAt(now).Exec(ctx); err != nil {
			return fmt.Errorf("desk: merge into %s: %w", into.Reference, err)
		}
		moved := map[string]any{
			"messages": res.Messages, "mails": res.Mails, "evidence": res.Evidence,
			"evidence_skipped": res.SkippedEvidence, "participants": res.Participants,
		}
		if err := caseEvent(ctx, tx, dup.ID, &u.ID, EventMergedInto, map[string]any{"into": into.Reference}, now); err != nil {
			return err
		}
		from := map[string]any{"from": dup.Reference}
		for k, v := range moved {
			from[k] = v
		}
		if err := caseEvent(ctx, tx, into.ID, &u.ID, EventMergedFrom, from, now); err != nil {
			return err
		}
		// The moved evidence changes what the survivor's assessment rests on.
		if into.Kind == supportcase.KindRecovery && res.Evidence > 0 {
			EnqueueEvidence(tx, into.ID, false)
		}
		moved["into"] = into.Reference
		return auditStaff(ctx, tx, u.ID, "case_merged", dup.Reference, moved, now)
	})
	if err != nil {
		return MergeResult{}, err
	}
	return res, nil
}

// lockPair locks the cases dupRef and intoRef in id order, so two merges
// of the same pair in opposite directions cannot deadlock. The duplicate
// missing is ErrNotFound; the survivor missing is a nil into.
func lockPair(ctx context.Context, tx *store.Tx, dupRef, intoRef string) (dup, into *ent.SupportCase, err error) {
	ids, err := tx.Ent.SupportCase.Query().Where(supportcase.ReferenceIn(dupRef, intoRef)).
		Select(supportcase.FieldID, supportcase.FieldReference).All(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("desk: merge %s: %w", dupRef, err)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].ID < ids[j].ID })
	for _, row := range ids {
		c, err := lockCaseRef(ctx, tx, row.Reference)
		if err != nil {
			return nil, nil, err
		}
		if c.Reference == dupRef {
			dup = c
		} else {
			into = c
		}
	}
	if dup == nil {
		return nil, nil, ErrNotFound
	}
	return dup, into, nil
}

// survivorID follows merged_into_id from case id to the case that took
// it in (id itself when it was never merged).
func survivorID(ctx context.Context, client *ent.Client, id int) (int, error) {
	for range maxMergeHops {
		c, err := client.SupportCase.Query().Where(supportcase.ID(id)).Select(supportcase.FieldMergedIntoID).Only(ctx)
		if err != nil {
			return 0, fmt.Errorf("desk: survivor of case %d: %w", id, err)
		}
		if c.MergedIntoID == nil {
			return id, nil
		}
		id = *c.MergedIntoID
	}
	return 0, fmt.Errorf("desk: survivor of case %d: more than %d merges", id, maxMergeHops)
}

// Survivor returns the reference of the case that case ref was (perhaps
// through several merges) merged into, or ref itself when it was not
// merged; ErrNotFound for an unknown reference.
func (t *Triage) Survivor(ctx context.Context, ref string) (string, error) {
	return survivorRef(ctx, t.st.Ent, ref)
}

func survivorRef(ctx context.Context, client *ent.Client, ref string) (string, error) {
	norm, ok := NormalizeReference(ref)
	if !ok {
		return "", ErrNotFound
	}
	c, err := client.SupportCase.Query().Where(supportcase.Reference(norm)).Only(ctx)
	if ent.IsNotFound(err) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("desk: case %s: %w", norm, err)
	}
	if c.MergedIntoID == nil {
		return c.Reference, nil
	}
	id, err := survivorID(ctx, client, *c.MergedIntoID)
	if err != nil {
		return "", err
	}
	s, err := client.SupportCase.Query().Where(supportcase.ID(id)).Select(supportcase.FieldReference).Only(ctx)
	if err != nil {
		return "", fmt.Errorf("desk: survivor of %s: %w", norm, err)
	}
	return s.Reference, nil
}
