package desk

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// ManualStatuses are the statuses staff may set by hand. Reset scheduled,
// resolved and denied come only from decisions, so that no case looks
// decided without a decision behind it.
var ManualStatuses = []supportcase.Status{
	supportcase.StatusNew,
	supportcase.StatusWaitingOnRequester,
	supportcase.StatusWaitingOnChallenge,
	supportcase.StatusReadyForDecision,
	supportcase.StatusClosed,
}

// maxStatusReason bounds the reason given with a status change.
const maxStatusReason = 1000

// manualTarget parses a status chosen in a form (field names it).
func manualTarget(field, s string) (supportcase.Status, error) {
	to := supportcase.Status(strings.TrimSpace(s))
	if !slices.Contains(ManualStatuses, to) {
		return "", FieldErrors{field: "Choose one of the listed statuses; reset scheduled, resolved and denied follow from a decision."}
	}
	return to, nil
}

// checkManualMove refuses hand moves out of a scheduled reset: cancelling
// the reset is a decision of its own.
func checkManualMove(c *ent.SupportCase, to supportcase.Status, field string) error {
	if c.Status == supportcase.StatusResetScheduled && to != c.Status {
		return FieldErrors{field: "A reset is scheduled for this case; cancel the reset before changing the status."}
	}
	return nil
}

// setManualStatus is setStatus for a move staff chose by hand. Settling
// the case also voids the approvals waiting for a second admin: a case
// reopened later is decided afresh, on what it holds then.
func setManualStatus(ctx context.Context, tx *store.Tx, c *ent.SupportCase, actorID int, to supportcase.Status, reason string, now time.Time) error {
	if err := setStatus(ctx, tx, c, &actorID, to, reason, now); err != nil {
		return err
	}
	if Settled(to) {
		return voidApprovals(ctx, tx, c.ID, now)
	}
	return nil
}

// SetStatus moves case ref to status to by hand (one of ManualStatuses;
// a closed case may be reopened this way), with an optional reason.
func (t *Triage) SetStatus(ctx context.Context, ref string, actor Actor, to, reason string) error {
	status, err := manualTarget("status", to)
	if err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > maxStatusReason {
		return FieldErrors{"reason": fmt.Sprintf("Shorten the reason to at most %d characters.", maxStatusReason)}
	}
	return t.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		u, c, err := t.actOn(ctx, tx, ref, actor)
		if err != nil {
			return err
		}
		if c.Status == status {
			return FieldErrors{"status": "The case already has this status."}
		}
		if err := checkManualMove(c, status, "status"); err != nil {
			return err
		}
		from, now := c.Status, t.now()
		if err := setManualStatus(ctx, tx, c, u.ID, status, reason, now); err != nil {
			return err
		}
		details := map[string]any{"from": string(from), "to": string(status)}
		if reason != "" {
			details["reason"] = reason
		}
		return auditStaff(ctx, tx, u.ID, "case_status_changed", c.Reference, details, now)
	})
}
