package desk

import (
	"context"
	"fmt"
	"time"

	"github.com/recoverydesk/recoverydesk/internal/store"
)

// caseEvent appends an entry to a case's timeline; actorID is nil for the
// system.
func caseEvent(ctx context.Context, tx *store.Tx, caseID int, actorID *int, kind string, details map[string]any, now time.Time) error {
	if err := tx.Ent.CaseEvent.Create().
		SetCaseID(caseID).
		SetNillableActorID(actorID).
		SetKind(kind).
		SetDetails(details).
		SetCreatedAt(now).
		Exec(ctx); err != nil {
		return fmt.Errorf("desk: record %s on case %d: %w", kind, caseID, err)
	}
	return nil
}
