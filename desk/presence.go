package desk

import (
	"context"
	"fmt"
	"time"
)

// PresenceWindow is how recently another staff member must have had the
// case open to be shown as viewing it; the page refreshes its presence
// every few seconds, well within it.
const PresenceWindow = 20 * time.Second

// Touch records that staff member viewerID has case ref open now.
func (t *Triage) Touch(ctx context.Context, ref string, viewerID int) error {
	norm, ok := NormalizeReference(ref)
	if !ok {
		return ErrNotFound
	}
	tag, err := t.st.Pool.Exec(ctx, `INSERT INTO case_presence (case_id, user_id, seen_at)
		SELECT id, $2, $3 FROM cases WHERE reference = $1
		ON CONFLICT (case_id, user_id) DO UPDATE SET seen_at = EXCLUDED.seen_at`, norm, viewerID, t.now())
	if err != nil {
		return fmt.Errorf("desk: presence on %s: %w", norm, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// Others lists the usernames of the other staff members who had case ref
// open within PresenceWindow, by name.
func (t *Triage) Others(ctx context.Context, ref string, viewerID int) ([]string, error) {
	norm, ok := NormalizeReference(ref)
	if !ok {
		return nil, ErrNotFound
	}
	rows, err := t.st.Pool.Query(ctx, `SELECT u.username FROM case_presence p
		JOIN cases c ON c.id = p.case_id
		JOIN users u ON u.id = p.user_id
		WHERE c.reference = $1 AND p.user_id <> $2 AND p.seen_at > $3
		  AND u.staff_role IN ('agent', 'admin')
		ORDER BY u.username_normalized`, norm, viewerID, t.now().Add(-PresenceWindow))
	if err != nil {
		return nil, fmt.Errorf("desk: presence on %s: %w", norm, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("desk: presence on %s: %w", norm, err)
		}
		out = append(out, name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("desk: presence on %s: %w", norm, err)
	}
	return out, nil
}
