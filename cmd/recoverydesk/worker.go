package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/internal/config"
	"github.com/recoverydesk/recoverydesk/mailbox"
	"github.com/recoverydesk/recoverydesk/workers"
)

func workerCommand() *command {
	return &command{
		name:    "worker",
		summary: "run the background jobs (production)",
		help: `Runs the River workers: outbound mail, mailbox ingestion, evidence jobs,
scheduled resets. Needs SECRET_KEY, BASE_URL and SMTP_URL. Migrations are
applied at start. Run as many worker processes as needed; River hands each
job to one of them. SIGINT/SIGTERM: take no new jobs, let running ones
finish (SHUTDOWN_TIMEOUT), exit 0.`,
		run: func(ctx context.Context, c *cli, _ any, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected argument %q", args[0])
			}
			rt, err := setup(ctx, c, config.ModeWorker, true)
			if err != nil {
				return err
			}
			defer rt.close()
			jobs, err := startWorkers(ctx, rt)
			if err != nil {
				return err
			}
			stopIngestion, err := startIngestion(ctx, rt)
			if err != nil {
				return errors.Join(err, stopWorkers(rt, jobs))
			}
			rt.log.Info("workers running", "max_workers", rt.cfg.Workers)
			<-ctx.Done()
			stopIngestion()
			return stopWorkers(rt, jobs)
		},
	}
}

// startWorkers starts a River client running every worker. It runs until
// stopWorkers, not until ctx ends, so a signal lets jobs finish.
func startWorkers(ctx context.Context, rt *runtime) (*river.Client[pgx.Tx], error) {
	outbox, err := mailbox.NewOutboxFromConfig(rt.store.Ent, &rt.cfg, rt.log)
	if err != nil {
		return nil, err
	}
	signer, err := newSigner(rt)
	if err != nil {
		return nil, err
	}
	ev := newEvidence(rt, outbox, signer)
	client, err := workers.NewClient(workers.Deps{
		Store:    rt.store,
		Logger:   rt.log,
		Sessions: account.NewSessions(rt.store.Ent, account.DefaultSessionPolicy, nil),
		Outbox:   outbox,
		Evidence: ev,
		Triage:   newTriage(rt, outbox, signer, ev),
	}, &workers.Options{MaxWorkers: rt.cfg.Workers})
	if err != nil {
		return nil, err
	}
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, fmt.Errorf("start workers: %w", err)
	}
	return client, nil
}

// stopWorkers stops fetching jobs and waits for running ones up to
// SHUTDOWN_TIMEOUT, then cancels what is left (River retries those).
func stopWorkers(rt *runtime, client *river.Client[pgx.Tx]) error {
	ctx, cancel := context.WithTimeout(context.Background(), rt.cfg.ShutdownTimeout)
	defer cancel()
	err := client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		rt.log.Warn("jobs still running at the shutdown deadline; cancelling them (they will be retried)")
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer ccancel()
		return client.StopAndCancel(cctx)
	}
	if err != nil {
		return fmt.Errorf("stop workers: %w", err)
	}
	rt.log.Info("workers stopped")
	return nil
}

// slaPolicy is the configured SLA per kind of case.
func slaPolicy(rt *runtime) desk.SLAPolicy {
	return desk.SLAPolicy{
		Recovery: desk.SLA(rt.cfg.SLARecovery),
		General:  desk.SLA(rt.cfg.SLAGeneral),
	}
}

// newTriage builds the staff desk; web (the pages) and the workers (the
// scheduled resets) use the same settings.
func newTriage(rt *runtime, outbox *mailbox.Outbox, signer *mailbox.MessageIDSigner, ev *desk.Evidence) *desk.Triage {
	wait := rt.cfg.ResetWaitingPeriod
	if wait == 0 {
		wait = desk.NoWait
	}
	return desk.NewTriage(rt.store, outbox, signer, ev, rt.cfg.SiteName, rt.cfg.BaseURL, desk.TriageOptions{
		SLA:           slaPolicy(rt),
		WaitingPeriod: wait,
	})
}

// newEvidence builds the evidence service; web (challenge pages, the case
// page) and the workers (the jobs) use the same settings.
func newEvidence(rt *runtime, outbox *mailbox.Outbox, signer *mailbox.MessageIDSigner) *desk.Evidence {
	return desk.NewEvidence(rt.store, outbox, signer, rt.cfg.SiteName, rt.cfg.BaseURL, desk.EvidenceOptions{})
}
