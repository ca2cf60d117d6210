package desk

import (
	"time"

	"github.com/riverqueue/river"
)

// ResetArgs runs an approved 2FA reset once its waiting period is over.
// The job is inserted with the approval, scheduled for the end of the
// waiting period; it runs once (a cancelled or finished reset makes it a
// no-op) and, being a River job in the database, survives restarts.
type ResetArgs struct {
	ResetRequestID int `json:"reset_request_id"`
}

// Kind is the job's stable name in River.
func (ResetArgs) Kind() string { return "twofa_reset" }

// resetMaxAttempts leaves room for transient database errors; the reset
// itself is idempotent (it checks the request's status under a lock).
const resetMaxAttempts = 10

// resetInsertOpts schedules the job of a reset request for at.
func resetInsertOpts(at time.Time) *river.InsertOpts {
	return &river.InsertOpts{
		MaxAttempts: resetMaxAttempts,
		ScheduledAt: at,
		UniqueOpts:  river.UniqueOpts{ByArgs: true},
	}
}
