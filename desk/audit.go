package desk

import (
	"context"
	"fmt"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/internal/audit"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// auditStaff appends a staff member's action on case ref to the audit
// log, in the transaction that makes the change.
func auditStaff(ctx context.Context, tx *store.Tx, actorID int, action, ref string, details map[string]any, now time.Time) error {
	u, err := tx.Ent.User.Get(ctx, actorID)
	if err != nil {
		return fmt.Errorf("desk: audit %s: staff member %d: %w", action, actorID, err)
	}
	if _, err := audit.Append(ctx, tx, audit.Entry{
		ActorID:    &actorID,
		ActorLabel: staffLabel(u),
		Action:     action,
		TargetType: "case",
		TargetID:   ref,
		Details:    details,
		At:         now,
	}); err != nil {
		return fmt.Errorf("desk: %w", err)
	}
	return nil
}

// staffLabel names a staff member in the audit log ("admin ada"); the
// label stays true even if the user is later renamed.
func staffLabel(u *ent.User) string { return string(u.StaffRole) + " " + u.Username }
