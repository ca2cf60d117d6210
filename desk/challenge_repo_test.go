package desk_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/auditevent"
	"github.com/recoverydesk/recoverydesk/ent/projectrole"
	"github.com/recoverydesk/recoverydesk/ent/repochallenge"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/internal/gitserve"
)

// repoCase is a case about an account with project repoName served by srv
// (a real git daemon), and the staff member who starts challenges.
type repoCase struct {
	filed
	account *seeded
	project *ent.Project
	staffID int
}

func newRepoCase(t *testing.T, fx evFixture, repoURL string) repoCase {
	t.Helper()
	a := seedAccount(t, fx.st)
	p := a.addProject(unique("engine"), projectrole.RoleOwner, day(2019, 4, 1), repoURL)
	staff := seedAccount(t, fx.st)
	f := recoveryForm(a.User.Username, unique("req")+"@example.net")
	f.ClaimedProjects = p.Name
	return repoCase{filed: fx.submit(t, f), account: a, project: p, staffID: staff.User.ID}
}

func challengeRow(t *testing.T, fx evFixture, id int) *ent.RepoChallenge {
	t.Helper()
	ch, err := fx.st.Ent.RepoChallenge.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func wantFieldError(t *testing.T, err error, field, contains string) {
	t.Helper()
	var fe desk.FieldErrors
	if !errors.As(err, &fe) || fe[field] == "" {
		t.Fatalf("error %v, want FieldErrors{%q}", err, field)
	}
	if !strings.Contains(fe[field], contains) {
		t.Errorf("%s error %q does not mention %q", field, fe[field], contains)
	}
}

func TestRepoChallengeAgainstGitDaemon(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newEvidence(t)
	srv := gitserve.Start(t)
	rc := newRepoCase(t, fx, srv.NewRepo(t, "engine"))
	noURL := rc.account.addProject(unique("docs"), projectrole.RoleMaintainer, day(2020, 1, 1), "")
	stranger := seedAccount(t, fx.st)
	foreign := stranger.addProject(unique("foreign"), projectrole.RoleOwner, day(2020, 1, 1), srv.NewRepo(t, "foreign"))

	_, err := fx.ev.StartRepoChallenge(ctx, rc.Reference, foreign.Name, rc.staffID)
	wantFieldError(t, err, "project", "no role")
	_, err = fx.ev.StartRepoChallenge(ctx, rc.Reference, unique("nowhere"), rc.staffID)
	wantFieldError(t, err, "project", "no role")
	_, err = fx.ev.StartRepoChallenge(ctx, rc.Reference, noURL.Name, rc.staffID)
	wantFieldError(t, err, "project", "no repository URL")
	if n := fx.st.Ent.RepoChallenge.Query().Where(repochallenge.CaseID(rc.ID)).CountX(ctx); n != 0 {
		t.Fatalf("%d challenges after refusals", n)
	}

	started := time.Now()
	ch, err := fx.ev.StartRepoChallenge(ctx, strings.ToLower(rc.Reference), rc.project.Name, rc.staffID)
	if err != nil {
		t.Fatal(err)
	}
	prefix := "rd-" + strings.ToLower(strings.TrimPrefix(rc.Reference, "RD-")) + "-"
	if ch.Status != repochallenge.StatusPending || !strings.HasPrefix(ch.Branch, prefix) || desk.ValidChallengeBranch(ch.Branch) != nil {
		t.Errorf("challenge %s on branch %q, want pending on %s…", ch.Status, ch.Branch, prefix)
	}
	if d := ch.ExpiresAt.Sub(started); d < desk.DefaultRepoChallengeTTL-time.Minute || d > desk.DefaultRepoChallengeTTL+time.Minute {
		t.Errorf("expires in %s, want %s", d, desk.DefaultRepoChallengeTTL)
	}
	if ch.StartedByID == nil || *ch.StartedByID != rc.staffID {
		t.Errorf("started by %v, want %d", ch.StartedByID, rc.staffID)
	}
	if kinds := jobKinds(t, fx.st, rc.ID); !slices.Contains(kinds, desk.RepoCheckArgs{}.Kind()) {
		t.Errorf("no repository check enqueued: %v", kinds)
	}
	sent := mails(t, fx.st, rc.ID, desk.MailRepoChallenge)
	if len(sent) != 1 || !strings.Contains(sent[0].BodyText, ch.Branch) || !strings.Contains(sent[0].BodyText, ch.RepositoryURL) ||
		sent[0].ToAddress != caseRow(t, fx.st, rc.ID).RequesterEmail {
		t.Fatalf("repository challenge mails: %d", len(sent))
	}
	if st := caseRow(t, fx.st, rc.ID).Status; st != supportcase.StatusWaitingOnChallenge {
		t.Errorf("case status %s, want waiting_on_challenge", st)
	}
	// Starting a challenge is a staff action: it is in the audit log.
	logged, err := fx.st.Ent.AuditEvent.Query().
		Where(auditevent.Action("case.repo_challenge_started"), auditevent.TargetID(rc.Reference)).
		All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(logged) != 1 || logged[0].ActorID == nil || *logged[0].ActorID != rc.staffID {
		t.Errorf("audit rows for the start: %+v", logged)
	}
	_, err = fx.ev.StartRepoChallenge(ctx, rc.Reference, rc.project.Name, rc.staffID)
	wantFieldError(t, err, "project", "already running")

	view, err := fx.in.Status(ctx, rc.Reference, rc.StatusToken)
	if err != nil {
		t.Fatal(err)
	}
	if !containsLine(view.Todo, "Push a branch named "+ch.Branch) {
		t.Errorf("to-do lacks the branch: %q", view.Todo)
	}

	check := desk.RepoCheckArgs{CaseID: rc.ID, ChallengeID: ch.ID}
	for i := 1; i <= 2; i++ {
		err := fx.ev.Run(ctx, check)
		var again *desk.CheckAgainError
		if !errors.As(err, &again) || again.After < time.Minute {
			t.Fatalf("check %d before the push: %v, want CheckAgainError of a minute or more", i, err)
		}
		if got := challengeRow(t, fx, ch.ID); got.Checks != i || got.Status != repochallenge.StatusPending || got.CheckedAt == nil || got.LastError != "" {
			t.Errorf("after check %d: checks %d status %s checked %v error %q", i, got.Checks, got.Status, got.CheckedAt, got.LastError)
		}
	}
	if rows := caseItems(t, fx.st, rc.ID, desk.KindRepoControl); len(rows) != 0 {
		t.Fatalf("proof before the push: %s", describeItems(rows))
	}

	commit := srv.PushBranch(t, "engine", ch.Branch)
	if err := fx.ev.Run(ctx, check); err != nil {
		t.Fatalf("check after the push: %v", err)
	}
	got := challengeRow(t, fx, ch.ID)
	if got.Status != repochallenge.StatusFound || got.Commit != commit || got.FoundAt == nil || got.Checks != 3 {
		t.Errorf("after the push: status %s commit %q (want %q) found %v checks %d", got.Status, got.Commit, commit, got.FoundAt, got.Checks)
	}
	proof := onlyItem(t, fx.st, rc.ID, desk.KindRepoControl)
	if string(proof.Strength) != string(desk.StrengthProof) || proof.Source != ch.RepositoryURL ||
		proof.Finding.Details["commit"] != commit || !strings.Contains(proof.Finding.Summary, ch.Branch) {
		t.Errorf("proof %s from %s: %s %v", proof.Strength, proof.Source, proof.Finding.Summary, proof.Finding.Details)
	}
	if !containsPrefix(latest(t, fx.st, rc.ID).Reasons, "Proof of control: Pushed the branch "+ch.Branch) {
		t.Errorf("reasons lack the repository proof: %q", latest(t, fx.st, rc.ID).Reasons)
	}

	// Found is final: another run adds nothing.
	if err := fx.ev.Run(ctx, check); err != nil {
		t.Fatal(err)
	}
	if n := len(caseItems(t, fx.st, rc.ID, desk.KindRepoControl)); n != 1 {
		t.Errorf("%d proofs after another run, want 1", n)
	}
	if got := challengeRow(t, fx, ch.ID); got.Checks != 3 {
		t.Errorf("checks %d after the challenge was found, want 3", got.Checks)
	}
	if view, err = fx.in.Status(ctx, rc.Reference, rc.StatusToken); err != nil || containsLine(view.Todo, "Push a branch") {
		t.Errorf("to-do after the branch was found: %q, %v", view.Todo, err)
	}
	cf, err := fx.ev.CaseFile(ctx, rc.Reference)
	if err != nil {
		t.Fatal(err)
	}
	if len(cf.RepoChallenges) != 1 || cf.RepoChallenges[0].Status != "found" || cf.RepoChallenges[0].Project != rc.project.Name {
		t.Errorf("case file repository challenges %+v", cf.RepoChallenges)
	}
}

func TestRepoChallengeUnreachableThenRetried(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newEvidence(t)
	// Nothing listens on this port, yet.
	port := gitserve.FreePort(t)
	rc := newRepoCase(t, fx, gitserve.URLFor(port, "gone"))
	ch, err := fx.ev.StartRepoChallenge(ctx, rc.Reference, rc.project.Name, rc.staffID)
	if err != nil {
		t.Fatal(err)
	}
	err = fx.ev.Run(ctx, desk.RepoCheckArgs{CaseID: rc.ID, ChallengeID: ch.ID})
	var again *desk.CheckAgainError
	if err == nil || errors.As(err, &again) {
		t.Fatalf("unreachable repository: %v, want an error to retry with backoff", err)
	}
	got := challengeRow(t, fx, ch.ID)
	if got.LastError == "" || got.Checks != 1 || got.Status != repochallenge.StatusPending {
		t.Errorf("after a failed check: error %q checks %d status %s", got.LastError, got.Checks, got.Status)
	}
	if rows := caseItems(t, fx.st, rc.ID, desk.KindRepoControl); len(rows) != 0 {
		t.Errorf("proof from an unreachable repository: %s", describeItems(rows))
	}

	// The failure was transient: the retry finds the branch.
	srv := gitserve.StartOn(t, port)
	srv.NewRepo(t, "gone")
	commit := srv.PushBranch(t, "gone", ch.Branch)
	if err := fx.ev.Run(ctx, desk.RepoCheckArgs{CaseID: rc.ID, ChallengeID: ch.ID}); err != nil {
		t.Fatalf("retry once the repository is up: %v", err)
	}
	got = challengeRow(t, fx, ch.ID)
	if got.Status != repochallenge.StatusFound || got.Commit != commit || got.LastError != "" || got.Checks != 2 {
		t.Errorf("after the retry: status %s commit %q error %q checks %d", got.Status, got.Commit, got.LastError, got.Checks)
	}
	onlyItem(t, fx.st, rc.ID, desk.KindRepoControl)
}

func TestRepoChallengeExpires(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newEvidence(t)
	srv := gitserve.Start(t)
	rc := newRepoCase(t, fx, srv.NewRepo(t, "late"))
	ch, err := fx.ev.StartRepoChallenge(ctx, rc.Reference, rc.project.Name, rc.staffID)
	if err != nil {
		t.Fatal(err)
	}
	// Pushed, but looked for only after the challenge expired.
	srv.PushBranch(t, "late", ch.Branch)
	late := fx.evidenceAt(func() time.Time { return time.Now().Add(desk.DefaultRepoChallengeTTL + time.Hour) })
	if err := late.Run(ctx, desk.RepoCheckArgs{CaseID: rc.ID, ChallengeID: ch.ID}); err != nil {
		t.Fatalf("check after expiry: %v", err)
	}
	if got := challengeRow(t, fx, ch.ID); got.Status != repochallenge.StatusExpired {
		t.Errorf("status %s, want expired", got.Status)
	}
	if rows := caseItems(t, fx.st, rc.ID, desk.KindRepoControl); len(rows) != 0 {
		t.Errorf("proof from an expired challenge: %s", describeItems(rows))
	}
	// An expired challenge stays expired when the job runs again in time.
	if err := fx.ev.Run(ctx, desk.RepoCheckArgs{CaseID: rc.ID, ChallengeID: ch.ID}); err != nil {
		t.Fatal(err)
	}
	if got := challengeRow(t, fx, ch.ID); got.Status != repochallenge.StatusExpired {
		t.Errorf("status %s after another run, want expired", got.Status)
	}
	// Once expired, the project can be challenged again.
	if _, err := fx.ev.StartRepoChallenge(ctx, rc.Reference, rc.project.Name, rc.staffID); err != nil {
		t.Errorf("restart after expiry: %v", err)
	}
}
