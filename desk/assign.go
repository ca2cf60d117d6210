package desk

import (
	"context"
	"fmt"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// EventAssigned is the timeline kind of an assignment; details hold
// "from" and "to" (usernames, "" for nobody).
const EventAssigned = "assigned"

// Assign gives case ref to the staff member assigneeID, or to nobody when
// it is nil; taking a case is assigning it to oneself. An assignee who is
// not active staff gives FieldErrors{"assignee"}.
func (t *Triage) Assign(ctx context.Context, ref string, actor Actor, assigneeID *int) error {
	return t.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		u, c, err := t.actOn(ctx, tx, ref, actor)
		if err != nil {
			return err
		}
		var to *ent.User
		if assigneeID != nil {
			if to, err = staff(ctx, tx, Actor{UserID: *assigneeID}, anyStaff...); err != nil {
				return FieldErrors{"assignee": "Choose a member of the support staff."}
			}
		}
		from := ""
		if c.AssigneeID != nil {
			if *c.AssigneeID == idOf(to) {
				return FieldErrors{"assignee": "The case is already assigned to " + to.Username + "."}
			}
			prev, err := tx.Ent.User.Get(ctx, *c.AssigneeID)
			if err != nil {
				return fmt.Errorf("desk: assign %s: %w", c.Reference, err)
			}
			from = prev.Username
		} else if to == nil {
			return FieldErrors{"assignee": "The case is not assigned to anyone."}
		}
		now := t.now()
		upd := tx.Ent.SupportCase.UpdateOneID(c.ID).SetUpdatedAt(now).SetLastActivityAt(now)
		toName := ""
		if to == nil {
			upd.ClearAssigneeID()
		} else {
			upd.SetAssigneeID(to.ID)
			toName = to.Username
		}
		if err := upd.Exec(ctx); err != nil {
			return fmt.Errorf("desk: assign %s: %w", c.Reference, err)
		}
		details := map[string]any{"from": from, "to": toName}
		if err := caseEvent(ctx, tx, c.ID, &u.ID, EventAssigned, details, now); err != nil {
			return err
		}
		action := "case_assigned"
		switch {
		case to == nil:
			action = "case_unassigned"
		case to.ID == u.ID:
			action = "case_taken"
		}
		return auditStaff(ctx, tx, u.ID, action, c.Reference, details, now)
	})
}

func idOf(u *ent.User) int {
	if u == nil {
		return 0
	}
	return u.ID
}
