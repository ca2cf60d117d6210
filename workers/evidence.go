package workers

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/recoverydesk/recoverydesk/desk"
)

// EvidenceWorker runs one kind of ownership-evidence job; the rules are
// in desk, this only maps its answers onto River's.
type EvidenceWorker[T desk.EvidenceArgs] struct {
	river.WorkerDefaults[T]
	Evidence *desk.Evidence
}

// Timeout leaves room for a slow git server (git ls-remote has its own
// 30 s limit).
func (w *EvidenceWorker[T]) Timeout(*river.Job[T]) time.Duration { return 2 * time.Minute }

// Work runs the job. "Check again later" snoozes it, which River does not
// count as a failed attempt; any other error is retried with backoff.
func (w *EvidenceWorker[T]) Work(ctx context.Context, job *river.Job[T]) error {
	err := w.Evidence.Run(ctx, job.Args)
	var again *desk.CheckAgainError
	if errors.As(err, &again) {
		return river.JobSnooze(again.After)
	}
	return err
}

// addEvidenceWorkers registers a worker for every evidence job.
func addEvidenceWorkers(w *river.Workers, e *desk.Evidence) error {
	return errors.Join(
		river.AddWorkerSafely(w, &EvidenceWorker[desk.AccountMatchArgs]{Evidence: e}),
		river.AddWorkerSafely(w, &EvidenceWorker[desk.ClaimedProjectsArgs]{Evidence: e}),
		river.AddWorkerSafely(w, &EvidenceWorker[desk.UploadHistoryArgs]{Evidence: e}),
		river.AddWorkerSafely(w, &EvidenceWorker[desk.AccountHistoryArgs]{Evidence: e}),
		river.AddWorkerSafely(w, &EvidenceWorker[desk.PrivateKnowledgeArgs]{Evidence: e}),
		river.AddWorkerSafely(w, &EvidenceWorker[desk.EmailChallengeArgs]{Evidence: e}),
		river.AddWorkerSafely(w, &EvidenceWorker[desk.RepoCheckArgs]{Evidence: e}),
	)
}
