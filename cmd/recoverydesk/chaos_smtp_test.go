package main_test

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// TestChaosSMTPRefuses: a relay that refuses every recipient, 451 (try
// later) for most and 554 (never) for some. Temporary refusals are
// retried, with the attempts and the relay's answer recorded; on the last
// attempt the mail is marked failed; a permanent refusal fails at once.
// No mail is lost: every one ends failed with its error, none stays
// queued, and its job ends.
//
// The send job makes 10 attempts over about four hours (River's
// attempt⁴-seconds backoff, mailbox.SendArgs.InsertOpts) and neither is
// configurable, so once the second attempt has failed the test shortens
// the remaining jobs to one more attempt, due now, by editing river_job.
func TestChaosSMTPRefuses(t *testing.T) {
	const total = 25 // 20 requests, 5 replies: 20 acknowledgements
	db := freshChaosDB(t)
	imapSrv := startChaosIMAP(t)
	plan := planMail(total, "smtp")
	imapSrv.appendRaw(t, plan.raws())
	// The requester of every fourth request is refused for good.
	permanent := func(rcpt string) bool {
		return strings.HasPrefix(rcpt, "req0.") || strings.HasPrefix(rcpt, "req5.") || strings.HasPrefix(rcpt, "req12.") || strings.HasPrefix(rcpt, "req16.")
	}
	relay := startChaosSMTP(t, func(rcpt string) *smtp.SMTPError {
		if permanent(rcpt) {
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "chaos: relaying denied"}
		}
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "chaos: try again later"}
	})
	w := start(t, workerEnv(db.url, imapSrv.URL(), relay.URL()), "worker")
	waitIngested(t, db, plan, time.Minute, w)
	acks := len(plan.requests)
	if n := db.mustCount(t, `SELECT count(*) FROM outbound_mails`); n != acks {
		t.Fatalf("%d outbound mails queued, want %d acknowledgements", n, acks)
	}

	// Permanent refusals: failed after one attempt, job cancelled.
	// Temporary ones: deferred, retried (a second attempt), job waiting.
	poll(t, "second attempts of the deferred mail", time.Minute, []*process{w}, func(ctx context.Context) (bool, error) {
		n, err := db.count(ctx, `SELECT count(*) FROM river_job WHERE kind = 'mailbox.send' AND state = 'retryable' AND attempt >= 2`)
		return n == acks-4, err
	})
	rows := outboundRows(t, db)
	for _, r := range rows {
		if permanent(r.to) {
			if r.status != "failed" || r.attempts != 1 || !strings.Contains(r.lastError, "554") {
				t.Errorf("mail to %s refused with 554: status %s after %d attempts, error %q; want failed after 1 with the 554", r.to, r.status, r.attempts, r.lastError)
			}
			continue
		}
		if r.status != "deferred" || r.attempts < 2 || !strings.Contains(r.lastError, "451") {
			t.Errorf("mail to %s refused with 451: status %s after %d attempts, error %q; want deferred after 2+ with the 451", r.to, r.status, r.attempts, r.lastError)
		}
	}
	if n := db.mustCount(t, `SELECT count(*) FROM river_job WHERE kind = 'mailbox.send' AND state = 'cancelled'`); n != 4 {
		t.Errorf("%d send jobs cancelled, want the 4 refused with 554", n)
	}

	// Fast-forward: one attempt left, due now. Each mail then has one
	// attempt more than its job had made.
	ffRows, err := db.pool.Query(context.Background(),
		`UPDATE river_job SET max_attempts = attempt + 1, scheduled_at = now()
		 WHERE kind = 'mailbox.send' AND state = 'retryable'
		 RETURNING (args->>'outbound_mail_id')::bigint, attempt`)
	if err != nil {
		t.Fatal(err)
	}
	finalAttempts := map[int]int{}
	for ffRows.Next() {
		var id, attempt int
		if err := ffRows.Scan(&id, &attempt); err != nil {
			t.Fatal(err)
		}
		finalAttempts[id] = attempt + 1
	}
	if err := ffRows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(finalAttempts) != acks-4 {
		t.Fatalf("shortened %d retryable jobs, want %d", len(finalAttempts), acks-4)
	}
	poll(t, "every mail failed", time.Minute, []*process{w}, func(ctx context.Context) (bool, error) {
		n, err := db.count(ctx, `SELECT count(*) FROM outbound_mails WHERE status = 'failed'`)
		return n == acks, err
	})
	poll(t, "every send job ended", time.Minute, []*process{w}, func(ctx context.Context) (bool, error) {
		n, err := db.count(ctx, `SELECT count(*) FROM river_job WHERE kind = 'mailbox.send' AND state NOT IN ('cancelled', 'discarded')`)
		return n == 0, err
	})
	asked := relay.asked()
	for _, r := range outboundRows(t, db) {
		wantAttempts := 1
		if !permanent(r.to) {
			wantAttempts = finalAttempts[r.id]
		}
		if r.status != "failed" || r.attempts != wantAttempts || r.lastError == "" || asked[r.to] != wantAttempts {
			t.Errorf("mail to %s: status %s after %d attempts (relay asked %d times), error %q; want failed after %d with the relay's answer",
				r.to, r.status, r.attempts, asked[r.to], r.lastError, wantAttempts)
		}
	}
	if code := w.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("worker exit %d after SIGTERM, want 0", code)
	}
}

type outboundRow struct {
	id                    int
	to, status, lastError string
	attempts              int
}

func outboundRows(t *testing.T, db *chaosDB) []outboundRow {
	t.Helper()
	rows, err := db.pool.Query(context.Background(), `SELECT id, lower(to_address), status, attempts, coalesce(last_error, '') FROM outbound_mails ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []outboundRow
	for rows.Next() {
		var r outboundRow
		if err := rows.Scan(&r.id, &r.to, &r.status, &r.attempts, &r.lastError); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
