package workers

import (
	"context"

	"github.com/riverqueue/river"

	"github.com/recoverydesk/recoverydesk/internal/ratelimit"
)

// PruneRateLimitsArgs is the periodic job that deletes rate-limit counters
// no rule reads any more.
type PruneRateLimitsArgs struct{}

// Kind is the job's stable name in River.
func (PruneRateLimitsArgs) Kind() string { return "ratelimit.prune" }

// PruneRateLimitsWorker runs one pruning pass.
type PruneRateLimitsWorker struct {
	river.WorkerDefaults[PruneRateLimitsArgs]
	Limits *ratelimit.Limiter
}

// Work deletes counters older than ratelimit.Retention.
func (w *PruneRateLimitsWorker) Work(ctx context.Context, _ *river.Job[PruneRateLimitsArgs]) error {
	_, err := w.Limits.Prune(ctx, ratelimit.Retention)
	return err
}
