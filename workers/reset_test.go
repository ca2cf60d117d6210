package workers_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/resetrequest"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/mailbox"
	"github.com/recoverydesk/recoverydesk/workers"
)

// resetWorld is a desk whose resets wait wait, with an account that has
// an authenticator app and an approve-recommended case about it.
type resetWorld struct {
	st      *store.Store
	deps    workers.Deps
	tr      *desk.Triage
	ref     string
	caseID  int
	ownerID int
	admin   desk.Actor
}

func newResetWorld(t *testing.T, wait time.Duration) *resetWorld {
	t.Helper()
	ctx := context.Background()
	st := testdb.Store(t)
	ob, err := mailbox.NewOutbox(mailbox.OutboxConfig{Client: st.Ent, From: mail.Address{Address: "support@desk.test"}})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := mailbox.NewMessageIDSigner(bytes.Repeat([]byte("r"), 32), "desk.test")
	if err != nil {
		t.Fatal(err)
	}
	ev := desk.NewEvidence(st, ob, signer, "Recovery Desk", mustURL("http://desk.test"), desk.EvidenceOptions{})
	tr := desk.NewTriage(st, ob, signer, ev, "Recovery Desk", mustURL("http://desk.test"), desk.TriageOptions{WaitingPeriod: wait})
	w := &resetWorld{st: st, tr: tr, deps: workers.Deps{
		Store: st, Logger: slog.New(slog.DiscardHandler),
		Sessions: account.NewSessions(st.Ent, account.DefaultSessionPolicy, nil),
		Outbox:   ob, Evidence: ev, Triage: tr,
	}}
	n := time.Now().UnixNano() % 1e9
	owner := st.Ent.User.Create().SetUsername(fmt.Sprintf("resetowner%d", n)).SetUsernameNormalized(fmt.Sprintf("resetowner%d", n)).SaveX(ctx)
	st.Ent.EmailAddress.Create().SetUserID(owner.ID).SetAddress(owner.Username + "@example.org").
		SetAddressNormalized(owner.Username + "@example.org").SetPrimary(true).SetVerifiedAt(time.Now()).ExecX(ctx)
	st.Ent.TOTPCredential.Create().SetUserID(owner.ID).SetSecret([]byte("12345678901234567890")).SetConfirmedAt(time.Now()).ExecX(ctx)
	admin := st.Ent.User.Create().SetUsername(fmt.Sprintf("resetadmin%d", n)).SetUsernameNormalized(fmt.Sprintf("resetadmin%d", n)).
		SetStaffRole(user.StaffRoleAdmin).SaveX(ctx)
	ref, err := desk.NewReference()
	if err != nil {
		t.Fatal(err)
	}
	c := st.Ent.SupportCase.Create().SetReference(ref).SetRequesterEmail("req@example.org").
		SetRequesterEmailNormalized("req@example.org").SetStatusTokenHash([]byte(ref)).
		SetAccountID(owner.ID).SetRecommendation(string(desk.RecommendApprove)).SaveX(ctx)
	w.ref, w.caseID, w.ownerID, w.admin = ref, c.ID, owner.ID, desk.Actor{UserID: admin.ID, WebAuthn: true}
	return w
}

// client starts a River client with every worker; it is stopped when the
// test ends unless the test stops it first.
func (w *resetWorld) client(t *testing.T) (*river.Client[pgx.Tx], <-chan *river.Event) {
	t.Helper()
	c, err := workers.NewClient(w.deps, &workers.Options{MaxWorkers: 2, RetryPolicy: quickRetry{}})
	if err != nil {
		t.Fatal(err)
	}
	events, cancel := c.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		stopCtx, done := context.WithTimeout(context.Background(), 30*time.Second)
		defer done()
		_ = c.Stop(stopCtx)
		if _, err := w.st.Pool.Exec(context.Background(), `DELETE FROM river_job`); err != nil {
			t.Error(err)
		}
	})
	return c, events
}

// TestResetJobSurvivesRestart approves a reset while one worker process
// runs, stops it before the reset's time, and sees a fresh process run
// the job once when the time comes.
func TestResetJobSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	w := newResetWorld(t, 2*time.Second)
	first, _ := w.client(t)
	res, err := w.tr.Approve(ctx, w.ref, w.admin, desk.ApproveInput{Reason: "Proven."})
	if err != nil || !res.Scheduled {
		t.Fatalf("approve: %+v %v", res, err)
	}
	stopCtx, done := context.WithTimeout(ctx, 30*time.Second)
	defer done()
	if err := first.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	if f, _ := account.LoadSecondFactors(ctx, w.st.Ent, w.ownerID); !f.TOTP {
		t.Fatal("the reset ran before its time")
	}

	_, events := w.client(t)
	deadline := time.After(30 * time.Second)
	for done := false; !done; {
		select {
		case e := <-events:
			if e.Job.Kind != (desk.ResetArgs{}).Kind() {
				continue
			}
			if e.Kind != river.EventKindJobCompleted {
				t.Fatalf("reset job ended %s: %v", e.Kind, e.Job.Errors)
			}
			done = true
		case <-deadline:
			t.Fatal("the reset job did not run within 30s of its time")
		}
	}
	if f, _ := account.LoadSecondFactors(ctx, w.st.Ent, w.ownerID); f.Enabled() {
		t.Fatalf("factors after the job: %+v", f)
	}
	r := w.st.Ent.ResetRequest.Query().Where(resetrequest.CaseID(w.caseID)).OnlyX(ctx)
	if r.Status != resetrequest.StatusDone {
		t.Fatalf("reset %s", r.Status)
	}
	// A second run (a retry after a crash) changes nothing.
	if err := w.tr.ExecuteReset(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	n := w.st.Ent.OutboundMail.Query().Where(outboundmail.CaseID(w.caseID), outboundmail.Purpose(desk.MailResetDone)).CountX(ctx)
	if n != 1 {
		t.Fatalf("%d done mails, want 1", n)
	}
}

// TestResetWorkerSnoozesEarly runs the worker before the reset's time: it
// snoozes for the time left instead of failing.
func TestResetWorkerSnoozesEarly(t *testing.T) {
	ctx := context.Background()
	w := newResetWorld(t, time.Hour)
	if _, err := w.tr.Approve(ctx, w.ref, w.admin, desk.ApproveInput{Reason: "Proven."}); err != nil {
		t.Fatal(err)
	}
	r := w.st.Ent.ResetRequest.Query().Where(resetrequest.CaseID(w.caseID)).OnlyX(ctx)
	err := (&workers.ResetWorker{Triage: w.tr}).Work(ctx, &river.Job[desk.ResetArgs]{Args: desk.ResetArgs{ResetRequestID: r.ID}})
	var snooze *river.JobSnoozeError
	if !errors.As(err, &snooze) || snooze.Duration <= 59*time.Minute || snooze.Duration > time.Hour {
		t.Fatalf("early run: %v, want a snooze of about an hour", err)
	}
	if f, _ := account.LoadSecondFactors(ctx, w.st.Ent, w.ownerID); !f.TOTP {
		t.Fatal("an early run reset the account")
	}
	if _, err := w.st.Pool.Exec(ctx, `DELETE FROM river_job`); err != nil {
		t.Fatal(err)
	}
}
