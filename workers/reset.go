package workers

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/recoverydesk/recoverydesk/desk"
)

// ResetWorker runs an approved 2FA reset when its waiting period is over;
// the rules are in desk.Triage.ExecuteReset.
type ResetWorker struct {
	river.WorkerDefaults[desk.ResetArgs]
	Triage *desk.Triage
}

// Timeout bounds one run: the reset is a handful of statements.
func (w *ResetWorker) Timeout(*river.Job[desk.ResetArgs]) time.Duration { return time.Minute }

// Work runs the reset. A job that starts early (a clock ahead of the
// database's) snoozes until the reset's time without counting an attempt;
// a cancelled or finished reset makes it a no-op.
func (w *ResetWorker) Work(ctx context.Context, job *river.Job[desk.ResetArgs]) error {
	err := w.Triage.ExecuteReset(ctx, job.Args.ResetRequestID)
	var again *desk.CheckAgainError
	if errors.As(err, &again) {
		return river.JobSnooze(again.After)
	}
	return err
}

// addTriageWorkers registers the desk's scheduled work (the 2FA reset).
func addTriageWorkers(w *river.Workers, t *desk.Triage) error {
	return river.AddWorkerSafely(w, &ResetWorker{Triage: t})
}
