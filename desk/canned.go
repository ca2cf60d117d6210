package desk

import (
	"context"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// CannedReply is a reusable reply text managed by admins.
type CannedReply struct {
	ID         int
	Name, Body string
}

// CannedReplies lists the canned replies by name. Stub until its owner
// fills it in.
func (t *Triage) CannedReplies(ctx context.Context) ([]CannedReply, error) { return nil, nil }

// expand fills the placeholders of a reply body written for case c
// (reference, status link, requester name). Stub until its owner fills it
// in.
func (t *Triage) expand(ctx context.Context, tx *store.Tx, c *ent.SupportCase, body string, now time.Time) (string, error) {
	return body, nil
}
