package desk

import (
	"context"
	"fmt"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// EventStatusChanged is the timeline kind of a status change; its details
// hold "from", "to" and, when given, "reason".
const EventStatusChanged = "status_changed"

// setStatus moves case c (locked in tx) to status to, keeping the SLA
// fields in step: settling a case stops its clock and stamps resolved_at,
// reopening one starts it again. It records the change on the timeline
// (actorID nil for the system) and updates c in place. Setting the status
// the case already has does nothing.
func setStatus(ctx context.Context, tx *store.Tx, c *ent.SupportCase, actorID *int, to supportcase.Status, reason string, now time.Time) error {
	if err := supportcase.StatusValidator(to); err != nil {
		return fmt.Errorf("desk: case %s: %w", c.Reference, err)
	}
	from := c.Status
	if from == to {
		return nil
	}
	c.Status = to
	upd := tx.Ent.SupportCase.UpdateOneID(c.ID).
		SetStatus(to).
		SetLastActivityAt(now).
		SetUpdatedAt(now)
	switch {
	case Settled(to):
		c.ResolvedAt = &now
		upd.SetResolvedAt(now)
	case Settled(from):
		c.ResolvedAt = nil
		upd.ClearResolvedAt()
	}
	c.SLADue = nextDue(c)
	upd.SetNillableSLADue(c.SLADue)
	if c.SLADue == nil {
		upd.ClearSLADue()
	}
	if err := upd.Exec(ctx); err != nil {
		return fmt.Errorf("desk: set status of %s to %s: %w", c.Reference, to, err)
	}
	c.LastActivityAt = now
	details := map[string]any{"from": string(from), "to": string(to)}
	if reason != "" {
		details["reason"] = reason
	}
	return caseEvent(ctx, tx, c.ID, actorID, EventStatusChanged, details, now)
}

// stampDeadlines sets the SLA deadlines of a case being created at now.
func stampDeadlines(create *ent.SupportCaseCreate, p SLAPolicy, kind supportcase.Kind, now time.Time) {
	d := p.DeadlinesFor(kind, now)
	create.SetFirstResponseDue(d.FirstResponse).
		SetResolutionDue(d.Resolution).
		SetSLADue(d.FirstResponse)
}
