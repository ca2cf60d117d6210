package desk

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/project"
	"github.com/recoverydesk/recoverydesk/ent/projectrole"
	"github.com/recoverydesk/recoverydesk/ent/repochallenge"
	"github.com/recoverydesk/recoverydesk/ent/schema/types"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// How often the repository check runs: half the time since the challenge
// started, so checks thin out (1, 2, 4, ... minutes) from the first
// minute up to every six hours.
const (
	minRepoCheck = time.Minute
	maxRepoCheck = 6 * time.Hour
)

// repoMailData fills repo_challenge.txt.
type repoMailData struct {
	ReplyMarker, CaseMarker string
	Name, SiteName          string
	Reference, Project      string
	Repository, Branch      string
	Expires                 string
}

// StartRepoChallenge asks the requester of case ref to push a branch
// named with a fresh case token to the repository of project, a project
// of the case's account, and starts the job that looks for it. The
// challenge, its job, the mail and the status change commit together.
// A case without an account, a project the account has no role in or
// without a usable repository URL gives FieldErrors{"project"}.
func (e *Evidence) StartRepoChallenge(ctx context.Context, ref, projectName string, actorID int) (*ent.RepoChallenge, error) {
	ref, ok := NormalizeReference(ref)
	if !ok {
		return nil, ErrNotFound
	}
	var ch *ent.RepoChallenge
	err := e.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		c, err := tx.Ent.SupportCase.Query().Where(supportcase.Reference(ref)).ForUpdate().Only(ctx)
		if ent.IsNotFound(err) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("desk: repository challenge for %s: %w", ref, err)
		}
		if c.AccountID == nil {
			return FieldErrors{"project": "This case is not linked to an account yet, so no project can be checked."}
		}
		p, err := tx.Ent.Project.Query().
			Where(project.NameNormalized(account.NormalizeProjectName(projectName)),
				project.HasRolesWith(projectrole.UserID(*c.AccountID))).
			Only(ctx)
		if ent.IsNotFound(err) {
			return FieldErrors{"project": fmt.Sprintf("The account has no role in a project called %q.", projectName)}
		}
		if err != nil {
			return fmt.Errorf("desk: repository challenge for %s: %w", ref, err)
		}
		if p.RepositoryURL == nil || *p.RepositoryURL == "" {
			return FieldErrors{"project": fmt.Sprintf("%s has no repository URL to check.", p.Name)}
		}
		if err := ValidRepositoryURL(*p.RepositoryURL); err != nil {
			return FieldErrors{"project": fmt.Sprintf("The repository URL of %s cannot be checked: %v.", p.Name, err)}
		}
		running, err := tx.Ent.RepoChallenge.Query().
			Where(repochallenge.CaseID(c.ID), repochallenge.ProjectID(p.ID), repochallenge.StatusEQ(repochallenge.StatusPending)).
			Exist(ctx)
		if err != nil {
			return fmt.Errorf("desk: repository challenge for %s: %w", ref, err)
		}
		if running {
			return FieldErrors{"project": fmt.Sprintf("A repository challenge for %s is already running.", p.Name)}
		}
		branch, err := NewChallengeBranch(ref)
		if err != nil {
			return err
		}
		now := e.now()
		ch, err = tx.Ent.RepoChallenge.Create().
			SetCaseID(c.ID).
			SetProjectID(p.ID).
			SetRepositoryURL(*p.RepositoryURL).
			SetBranch(branch).
			SetStartedByID(actorID).
			SetExpiresAt(now.Add(e.repoTTL)).
			SetCreatedAt(now).
			SetUpdatedAt(now).
			Save(ctx)
		if err != nil {
			return fmt.Errorf("desk: repository challenge for %s: %w", ref, err)
		}
		opts := evidenceInsertOpts(c.ID)
		opts.MaxAttempts = 25
		tx.Enqueue(RepoCheckArgs{CaseID: c.ID, ChallengeID: ch.ID}, opts)
		if err := e.mailRepoChallenge(ctx, tx, c, p.Name, ch); err != nil {
			return err
		}
		details := map[string]any{"project": p.Name, "repository": ch.RepositoryURL, "branch": branch}
		if err := caseEvent(ctx, tx, c.ID, &actorID, "repo_challenge_started", details, now); err != nil {
			return err
		}
		if err := auditStaff(ctx, tx, actorID, "case.repo_challenge_started", c.Reference, details, now); err != nil {
			return err
		}
		if c.Status == supportcase.StatusNew || c.Status == supportcase.StatusWaitingOnRequester || c.Status == supportcase.StatusReadyForDecision {
			return tx.Ent.SupportCase.UpdateOne(c).SetStatus(supportcase.StatusWaitingOnChallenge).SetUpdatedAt(now).Exec(ctx)
		}
		return nil
	})
	if err != nil {
		var fe FieldErrors
		if errors.As(err, &fe) || errors.Is(err, ErrNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("desk: start repository challenge: %w", err)
	}
	return ch, nil
}

func (e *Evidence) mailRepoChallenge(ctx context.Context, tx *store.Tx, c *ent.SupportCase, projectName string, ch *ent.RepoChallenge) error {
	subject, body, err := e.tmpl.Render(MailRepoChallenge, repoMailData{
		ReplyMarker: mailbox.ReplyAboveMarker,
		CaseMarker:  e.signer.Marker(c.Reference),
		Name:        c.RequesterName, SiteName: e.siteName,
		Reference: c.Reference, Project: projectName,
		Repository: ch.RepositoryURL, Branch: ch.Branch,
		Expires: ch.ExpiresAt.UTC().Format("2 January 2006 at 15:04 UTC"),
	})
	if err != nil {
		return err
	}
	caseID := c.ID
	_, err = e.outbox.Queue(ctx, tx, mailbox.Mail{
		To:        mail.Address{Name: c.RequesterName, Address: c.RequesterEmail},
		Subject:   subject,
		Text:      body,
		Purpose:   MailRepoChallenge,
		CaseID:    &caseID,
		MessageID: e.signer.New(c.Reference),
	})
	if err != nil {
		return fmt.Errorf("desk: mail repository challenge of %s: %w", c.Reference, err)
	}
	return nil
}

// checkRepoChallenge looks for the challenge's branch once. Not there
// yet: check again later (*CheckAgainError). Unreachable: a transient
// error, retried with backoff. Found: proof of control. Past its expiry
// the challenge ends without a finding.
func (e *Evidence) checkRepoChallenge(ctx context.Context, id int) error {
	ch, err := e.st.Ent.RepoChallenge.Query().Where(repochallenge.ID(id)).WithProject().Only(ctx)
	if err != nil {
		return fmt.Errorf("desk: repository challenge %d: %w", id, err)
	}
	if ch.Status != repochallenge.StatusPending {
		return nil
	}
	now := e.now()
	if !now.Before(ch.ExpiresAt) {
		return e.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
			n, err := tx.Ent.RepoChallenge.Update().
				Where(repochallenge.ID(id), repochallenge.StatusEQ(repochallenge.StatusPending)).
				SetStatus(repochallenge.StatusExpired).SetUpdatedAt(now).
				Save(ctx)
			if err != nil || n == 0 {
				return err
			}
			return caseEvent(ctx, tx, ch.CaseID, nil, "repo_challenge_expired", map[string]any{"branch": ch.Branch, "checks": ch.Checks}, now)
		})
	}
	commit, found, findErr := e.branches.FindBranch(ctx, ch.RepositoryURL, ch.Branch)
	if findErr != nil || !found {
		msg := ""
		if findErr != nil {
			msg = findErr.Error()
		}
		if err := e.st.Ent.RepoChallenge.UpdateOneID(id).
			AddChecks(1).SetCheckedAt(now).SetLastError(msg).SetUpdatedAt(now).
			Exec(ctx); err != nil {
			return fmt.Errorf("desk: repository challenge %d: %w", id, err)
		}
		if findErr != nil {
			return fmt.Errorf("desk: repository challenge %d: %w", id, findErr)
		}
		return &CheckAgainError{After: nextRepoCheck(now.Sub(ch.CreatedAt), ch.ExpiresAt.Sub(now))}
	}
	projectName := ""
	if ch.Edges.Project != nil {
		projectName = ch.Edges.Project.Name
	}
	return e.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		n, err := tx.Ent.RepoChallenge.Update().
			Where(repochallenge.ID(id), repochallenge.StatusEQ(repochallenge.StatusPending)).
			SetStatus(repochallenge.StatusFound).SetFoundAt(now).SetCommit(commit).
			AddChecks(1).SetCheckedAt(now).SetLastError("").SetUpdatedAt(now).
			Save(ctx)
		if err != nil || n == 0 {
			return err
		}
		short := commit
		if len(short) > 12 {
			short = short[:12]
		}
		it := newItem{
			kind: KindRepoControl, strength: StrengthProof, source: ch.RepositoryURL,
			key: "repo_control:" + strconv.Itoa(id),
			finding: types.Finding{
				Summary: fmt.Sprintf("Pushed the branch %s to %s, the repository of %s (commit %s), as asked.", ch.Branch, ch.RepositoryURL, projectName, short),
				At:      timePtr(now),
				Details: map[string]any{"project": projectName, "repository": ch.RepositoryURL, "branch": ch.Branch, "commit": commit},
			},
		}
		if err := e.record(ctx, tx, ch.CaseID, []newItem{it}); err != nil {
			return err
		}
		return caseEvent(ctx, tx, ch.CaseID, nil, "repo_challenge_passed", map[string]any{"branch": ch.Branch, "commit": commit}, now)
	})
}

// nextRepoCheck is the wait before the next look: half the time elapsed,
// between minRepoCheck and maxRepoCheck, and not past the expiry (one
// last look then ends the challenge).
func nextRepoCheck(elapsed, remaining time.Duration) time.Duration {
	d := min(max(elapsed/2, minRepoCheck), maxRepoCheck)
	if remaining > 0 && d > remaining {
		d = remaining
	}
	return d
}
