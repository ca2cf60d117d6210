package desk

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/recoverydesk/recoverydesk/internal/store"
)

// The evidence jobs. Each is idempotent: an item is stored once per case
// and dedupe key, and a challenge mail once per case and address, so a job
// that runs twice (a retry after a crash, a re-run after the requester
// adds information) changes nothing the second time. A returned error is
// transient: River retries the job with backoff.

// EvidenceArgs is implemented by the arguments of every evidence job; the
// workers package runs them all with one worker type.
type EvidenceArgs interface {
	river.JobArgs
	evidenceCase() int
}

// AccountMatchArgs finds the accounts the username and contact address
// point to, and links the case to the account when there is exactly one.
type AccountMatchArgs struct {
	CaseID int `json:"case_id"`
}

// ClaimedProjectsArgs compares the claimed projects and organizations with
// the account's roles in them.
type ClaimedProjectsArgs struct {
	CaseID int `json:"case_id"`
}

// UploadHistoryArgs reads the account's uploads and compares the claimed
// last upload with them.
type UploadHistoryArgs struct {
	CaseID int `json:"case_id"`
}

// AccountHistoryArgs looks for red flags in the account's recent history.
type AccountHistoryArgs struct {
	CaseID int `json:"case_id"`
}

// PrivateKnowledgeArgs compares the requester's answers with the record.
type PrivateKnowledgeArgs struct {
	CaseID int `json:"case_id"`
}

// EmailChallengeArgs mails a single-use challenge link to every verified
// address of the account (and to the contact address if it is not one).
type EmailChallengeArgs struct {
	CaseID int `json:"case_id"`
}

// RepoCheckArgs looks for a repository challenge's branch, again and again
// at growing intervals, until it appears or the challenge expires.
type RepoCheckArgs struct {
	CaseID      int `json:"case_id"`
	ChallengeID int `json:"challenge_id"`
}

// Kind is each job's stable name in River.
func (AccountMatchArgs) Kind() string     { return "desk.evidence.account_match" }
func (ClaimedProjectsArgs) Kind() string  { return "desk.evidence.claimed_projects" }
func (UploadHistoryArgs) Kind() string    { return "desk.evidence.upload_history" }
func (AccountHistoryArgs) Kind() string   { return "desk.evidence.account_history" }
func (PrivateKnowledgeArgs) Kind() string { return "desk.evidence.private_knowledge" }
func (EmailChallengeArgs) Kind() string   { return "desk.evidence.email_challenge" }
func (RepoCheckArgs) Kind() string        { return "desk.evidence.repo_check" }

func (a AccountMatchArgs) evidenceCase() int     { return a.CaseID }
func (a ClaimedProjectsArgs) evidenceCase() int  { return a.CaseID }
func (a UploadHistoryArgs) evidenceCase() int    { return a.CaseID }
func (a AccountHistoryArgs) evidenceCase() int   { return a.CaseID }
func (a PrivateKnowledgeArgs) evidenceCase() int { return a.CaseID }
func (a EmailChallengeArgs) evidenceCase() int   { return a.CaseID }
func (a RepoCheckArgs) evidenceCase() int        { return a.CaseID }

// jobLabels name the jobs on the case page, in the order they are shown.
var jobLabels = []struct{ kind, label string }{
	{AccountMatchArgs{}.Kind(), "Account match"},
	{ClaimedProjectsArgs{}.Kind(), "Claimed projects and organizations"},
	{UploadHistoryArgs{}.Kind(), "Upload history"},
	{AccountHistoryArgs{}.Kind(), "Account history"},
	{PrivateKnowledgeArgs{}.Kind(), "Private knowledge"},
	{EmailChallengeArgs{}.Kind(), "Email challenge"},
	{RepoCheckArgs{}.Kind(), "Repository challenge"},
}

// CheckAgainError asks the worker to run the job again after a while
// without counting a failed attempt: the repository check uses it while
// the branch has not appeared.
type CheckAgainError struct {
	After time.Duration
}

func (e *CheckAgainError) Error() string {
	return fmt.Sprintf("desk: check again in %s", e.After)
}

// evidenceInsertOpts puts the case in the job's metadata, which the case
// page's progress list filters on, and makes a job that is already waiting
// or running absorb an identical new one. Completed jobs are left out of
// the uniqueness states, so a later run (after the requester adds
// information) is enqueued again.
func evidenceInsertOpts(caseID int) *river.InsertOpts {
	return &river.InsertOpts{
		MaxAttempts: 10,
		Metadata:    []byte(`{"case_id":` + strconv.Itoa(caseID) + `}`),
		UniqueOpts: river.UniqueOpts{
			ByArgs: true,
			ByState: []rivertype.JobState{
				rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
				rivertype.JobStateRunning, rivertype.JobStateScheduled,
			},
		},
	}
}

// EnqueueEvidence enqueues the evidence jobs of case caseID in tx, so
// they commit with the change that causes them. A new case gets every
// job; information added later re-runs the checks but sends no new
// challenge mail.
func EnqueueEvidence(tx *store.Tx, caseID int, newCase bool) {
	enqueueEvidence(tx, append([]EvidenceArgs{AccountMatchArgs{CaseID: caseID}}, accountJobs(caseID, newCase)...))
}

// enqueueAccountJobs enqueues the jobs that need the case's account, once
// the account match has linked it.
func enqueueAccountJobs(tx *store.Tx, caseID int) {
	enqueueEvidence(tx, accountJobs(caseID, true))
}

// accountJobs are the jobs that read the case's account; challenge adds
// the email challenge.
func accountJobs(caseID int, challenge bool) []EvidenceArgs {
	jobs := []EvidenceArgs{
		ClaimedProjectsArgs{CaseID: caseID},
		UploadHistoryArgs{CaseID: caseID},
		AccountHistoryArgs{CaseID: caseID},
		PrivateKnowledgeArgs{CaseID: caseID},
	}
	if challenge {
		jobs = append(jobs, EmailChallengeArgs{CaseID: caseID})
	}
	return jobs
}

// enqueueEvidence adds jobs to tx; a job already waiting for the case is
// not added twice (they are unique by arguments).
func enqueueEvidence(tx *store.Tx, jobs []EvidenceArgs) {
	for _, j := range jobs {
		tx.Enqueue(j, evidenceInsertOpts(j.evidenceCase()))
	}
}

// Run runs one evidence job. A *CheckAgainError asks for another run
// later; any other error is transient and the job is retried.
func (e *Evidence) Run(ctx context.Context, args EvidenceArgs) error {
	switch a := args.(type) {
	case AccountMatchArgs:
		return e.matchAccount(ctx, a.CaseID)
	case ClaimedProjectsArgs:
		return e.checkClaims(ctx, a.CaseID)
	case UploadHistoryArgs:
		return e.checkUploads(ctx, a.CaseID)
	case AccountHistoryArgs:
		return e.checkHistory(ctx, a.CaseID)
	case PrivateKnowledgeArgs:
		return e.checkAnswers(ctx, a.CaseID)
	case EmailChallengeArgs:
		return e.sendEmailChallenges(ctx, a.CaseID)
	case RepoCheckArgs:
		return e.checkRepoChallenge(ctx, a.ChallengeID)
	}
	return fmt.Errorf("desk: unknown evidence job %s", args.Kind())
}
