package workers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/mail"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/projectrole"
	"github.com/recoverydesk/recoverydesk/ent/repochallenge"
	"github.com/recoverydesk/recoverydesk/internal/gitserve"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/mailbox"
	"github.com/recoverydesk/recoverydesk/mailbox/devmail"
	"github.com/recoverydesk/recoverydesk/workers"
)

// quickRetry retries a failed job after 100 ms instead of River's
// attempt⁴ seconds, so a test sees the retry.
type quickRetry struct{}

func (quickRetry) NextRetry(*rivertype.JobRow) time.Time {
	return time.Now().Add(100 * time.Millisecond)
}

// evidenceBundle is a running River client with the evidence workers, and
// a case whose account owns a project served (later) by a git daemon.
type evidenceBundle struct {
	ev      *desk.Evidence
	client  *river.Client[pgx.Tx]
	events  <-chan *river.Event
	ref     string
	owner   int
	project string
	port    int
}

func setupEvidence(t *testing.T) *evidenceBundle {
	t.Helper()
	ctx := context.Background()
	st := testdb.Store(t)
	sink := devmail.NewSink(slog.New(slog.DiscardHandler), 10)
	addr, err := sink.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	cfg, err := mailbox.ParseSMTPURL("smtp://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	ob, err := mailbox.NewOutbox(mailbox.OutboxConfig{
		Client: st.Ent, Sender: mailbox.NewSender(cfg),
		From: mail.Address{Address: "support@desk.test"}, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := mailbox.NewMessageIDSigner(bytes.Repeat([]byte("w"), 32), "desk.test")
	if err != nil {
		t.Fatal(err)
	}
	ev := desk.NewEvidence(st, ob, signer, "Recovery Desk", mustURL("http://desk.test"), desk.EvidenceOptions{})
	client, err := workers.NewClient(workers.Deps{
		Store: st, Logger: slog.New(slog.DiscardHandler),
		Sessions: account.NewSessions(st.Ent, account.DefaultSessionPolicy, nil),
		Outbox:   ob, Evidence: ev,
		Triage: desk.NewTriage(st, ob, signer, ev, "Recovery Desk", mustURL("http://desk.test"), desk.TriageOptions{}),
	}, &workers.Options{MaxWorkers: 2, RetryPolicy: quickRetry{}})
	if err != nil {
		t.Fatal(err)
	}
	events, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobSnoozed)
	t.Cleanup(func() {
		cancel()
		stopCtx, done := context.WithTimeout(context.Background(), 30*time.Second)
		defer done()
		if err := client.Stop(stopCtx); err != nil {
			t.Errorf("Stop = %v", err)
		}
		if _, err := st.Pool.Exec(context.Background(), `DELETE FROM river_job`); err != nil {
			t.Error(err)
		}
	})

	name := fmt.Sprintf("owner%d", time.Now().UnixNano()%1e9)
	port := gitserve.FreePort(t)
	u := st.Ent.User.Create().SetUsername(name).SetUsernameNormalized(name).SaveX(ctx)
	p := st.Ent.Project.Create().SetName(name + "-lib").SetNameNormalized(name + "-lib").
		SetRepositoryURL(gitserve.URLFor(port, "lib")).SaveX(ctx)
	st.Ent.ProjectRole.Create().SetProjectID(p.ID).SetUserID(u.ID).SetRole(projectrole.RoleOwner).ExecX(ctx)
	ref, err := desk.NewReference()
	if err != nil {
		t.Fatal(err)
	}
	st.Ent.SupportCase.Create().SetReference(ref).SetRequesterEmail("req@example.org").
		SetRequesterEmailNormalized("req@example.org").SetStatusTokenHash([]byte(ref)).
		SetAccountID(u.ID).ExecX(ctx)
	return &evidenceBundle{ev: ev, client: client, events: events, ref: ref, owner: u.ID, project: p.Name, port: port}
}

// next returns the next event of a repository-check job.
func (b *evidenceBundle) next(t *testing.T) *river.Event {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case e := <-b.events:
			if e.Job.Kind == (desk.RepoCheckArgs{}).Kind() {
				return e
			}
		case <-deadline:
			t.Fatal("no repository-check job event within 30s")
		}
	}
}

// TestRepoCheckRetriesThenFindsBranch runs the repository check through
// River: unreachable repository first (a failed attempt, retried with
// backoff), then reachable without the branch (snoozed, not failed),
// then the branch pushed (completed, proof recorded).
func TestRepoCheckRetriesThenFindsBranch(t *testing.T) {
	b := setupEvidence(t)
	ctx := context.Background()
	if err := b.client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ch, err := b.ev.StartRepoChallenge(ctx, b.ref, b.project, b.owner)
	if err != nil {
		t.Fatal(err)
	}

	if e := b.next(t); e.Kind != river.EventKindJobFailed {
		t.Fatalf("first check ended %s, want a failed attempt (nothing listens)", e.Kind)
	}
	srv := gitserve.StartOn(t, b.port)
	srv.NewRepo(t, "lib")
	// Retries may fail again until the daemon answers; then the check
	// finds no branch and snoozes.
	for {
		e := b.next(t)
		if e.Kind == river.EventKindJobSnoozed {
			break
		}
		if e.Kind != river.EventKindJobFailed {
			t.Fatalf("check ended %s before the branch exists", e.Kind)
		}
	}
	commit := srv.PushBranch(t, "lib", ch.Branch)
	// The snooze is a minute; run the job now, as a later check would.
	if _, err := b.client.JobRetry(ctx, jobIDOf(t, b, ch.ID)); err != nil {
		t.Fatal(err)
	}
	if e := b.next(t); e.Kind != river.EventKindJobCompleted {
		t.Fatalf("check after the push ended %s (%v), want completed", e.Kind, e.Job.Errors)
	}
	got, err := testdb.Store(t).Ent.RepoChallenge.Query().Where(repochallenge.ID(ch.ID)).Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != repochallenge.StatusFound || got.Commit != commit {
		t.Errorf("challenge %s at %q, want found at %q", got.Status, got.Commit, commit)
	}
	f, err := b.ev.CaseFile(ctx, b.ref)
	if err != nil {
		t.Fatal(err)
	}
	proofs := 0
	for _, it := range f.Evidence {
		if it.Kind == desk.KindRepoControl && it.Strength == desk.StrengthProof {
			proofs++
		}
	}
	if proofs != 1 {
		t.Errorf("%d repository proofs, want 1: %+v", proofs, f.Evidence)
	}
}

func jobIDOf(t *testing.T, b *evidenceBundle, challengeID int) int64 {
	t.Helper()
	res, err := b.client.JobList(context.Background(), river.NewJobListParams().Kinds((desk.RepoCheckArgs{}).Kind()))
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range res.Jobs {
		var args desk.RepoCheckArgs
		if err := json.Unmarshal(j.EncodedArgs, &args); err == nil && args.ChallengeID == challengeID {
			return j.ID
		}
	}
	t.Fatalf("no job for challenge %d", challengeID)
	return 0
}
