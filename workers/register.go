package workers

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/internal/ratelimit"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// Deps are the services workers call.
type Deps struct {
	Store    *store.Store
	Logger   *slog.Logger
	Sessions *account.Sessions
	// Outbox delivers queued mail; it needs a Sender (SMTP_URL).
	Outbox *mailbox.Outbox
	// Evidence runs the ownership-evidence jobs.
	Evidence *desk.Evidence
	// Triage runs the scheduled 2FA resets.
	Triage *desk.Triage
}

// RescueStuckJobsAfter is how long a job may stay "running" before River
// hands it to another worker: its worker must have died.
const RescueStuckJobsAfter = 5 * time.Minute

// Options tunes the client; nil means defaults.
type Options struct {
	// MaxWorkers is how many jobs run at once in this process.
	MaxWorkers int
	// RetryPolicy replaces River's backoff (attempt⁴ seconds); tests use
	// a short one.
	RetryPolicy river.ClientRetryPolicy
}

// NewClient returns a River client that runs every worker of the product.
// Start it with Start(ctx); stop it with Stop (jobs in flight finish).
func NewClient(d Deps, opts *Options) (*river.Client[pgx.Tx], error) {
	maxWorkers := 10
	if opts != nil && opts.MaxWorkers > 0 {
		maxWorkers = opts.MaxWorkers
	}
	if d.Outbox == nil {
		// Fail at start-up, not with a nil pointer in the first send job.
		return nil, errors.New("workers: Deps.Outbox is nil")
	}
	if d.Evidence == nil {
		return nil, errors.New("workers: Deps.Evidence is nil")
	}
	if d.Triage == nil {
		return nil, errors.New("workers: Deps.Triage is nil")
	}
	var retry river.ClientRetryPolicy
	if opts != nil {
		retry = opts.RetryPolicy
	}
	w := river.NewWorkers()
	if err := river.AddWorkerSafely(w, &PruneSessionsWorker{Sessions: d.Sessions}); err != nil {
		return nil, fmt.Errorf("workers: %w", err)
	}
	if err := river.AddWorkerSafely(w, &SendMailWorker{Outbox: d.Outbox}); err != nil {
		return nil, fmt.Errorf("workers: %w", err)
	}
	if err := river.AddWorkerSafely(w, &PruneRateLimitsWorker{Limits: ratelimit.New(d.Store.Pool, nil)}); err != nil {
		return nil, fmt.Errorf("workers: %w", err)
	}
	if err := addEvidenceWorkers(w, d.Evidence); err != nil {
		return nil, fmt.Errorf("workers: %w", err)
	}
	if err := addTriageWorkers(w, d.Triage); err != nil {
		return nil, fmt.Errorf("workers: %w", err)
	}
	client, err := river.NewClient(riverpgxv5.New(d.Store.Pool), &river.Config{
		Logger:      d.Logger,
		RetryPolicy: retry,
		Queues:      map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: maxWorkers}},
		Workers:     w,
		// A worker killed mid-job leaves the job "running" until River
		// rescues it, an hour by default; meanwhile its mail would stay
		// unsent. Every job here runs under River's default one-minute
		// timeout, so five minutes is safely past any live attempt.
		RescueStuckJobsAfter: RescueStuckJobsAfter,
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return account.PruneSessionsArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return PruneRateLimitsArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("workers: river client: %w", err)
	}
	return client, nil
}
