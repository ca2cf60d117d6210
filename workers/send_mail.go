package workers

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/recoverydesk/recoverydesk/mailbox"
)

// inProgressSnooze is how long a send job waits when another run holds the
// mail's claim: long enough for that run to finish, short next to the
// claim timeout after which a dead run's claim is taken over.
const inProgressSnooze = time.Minute

// SendMailWorker delivers one queued OutboundMail over SMTP.
type SendMailWorker struct {
	river.WorkerDefaults[mailbox.SendArgs]
	Outbox *mailbox.Outbox
}

// Timeout leaves room for a slow relay (River's default is one minute);
// Deliver itself cuts a send off at half the outbox's claim timeout.
func (w *SendMailWorker) Timeout(*river.Job[mailbox.SendArgs]) time.Duration {
	return 2 * time.Minute
}

// Work sends the mail. A permanent failure cancels the job, since retrying
// cannot help; a temporary one returns the error so River retries with
// backoff, and on the last attempt Deliver marks the mail failed.
func (w *SendMailWorker) Work(ctx context.Context, job *river.Job[mailbox.SendArgs]) error {
	err := w.Outbox.Deliver(ctx, job.Args.OutboundMailID, job.Attempt >= job.MaxAttempts)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mailbox.ErrPermanent):
		return river.JobCancel(err)
	case errors.Is(err, mailbox.ErrInProgress):
		return river.JobSnooze(inProgressSnooze)
	default:
		return err
	}
}
