package workers

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/recoverydesk/recoverydesk/account"
)

// PruneSessionsWorker deletes sessions that ended over a week ago.
type PruneSessionsWorker struct {
	river.WorkerDefaults[account.PruneSessionsArgs]
	Sessions *account.Sessions
}

// Work runs one pruning pass.
func (w *PruneSessionsWorker) Work(ctx context.Context, job *river.Job[account.PruneSessionsArgs]) error {
	_, err := w.Sessions.Prune(ctx, 7*24*time.Hour)
	return err
}
