package desk

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/actiontoken"
	"github.com/recoverydesk/recoverydesk/ent/assessment"
	"github.com/recoverydesk/recoverydesk/ent/evidenceitem"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/project"
	"github.com/recoverydesk/recoverydesk/ent/projectrole"
	"github.com/recoverydesk/recoverydesk/ent/repochallenge"
	"github.com/recoverydesk/recoverydesk/ent/schema/types"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
)

// CaseFile is a case as staff see it: the request, the thread, and the
// evidence with its provenance.
type CaseFile struct {
	ID                            int
	Reference, Subject            string
	Kind, Status                  string
	RequesterName, RequesterEmail string
	ClaimedUsername               string
	Created, LastActivity         time.Time
	Intake                        types.CaseIntake
	Account                       *AccountSummary
	Mails                         []OutboundSummary
	// Projects are the account's projects, for starting a repository
	// challenge (those without a repository URL cannot be chosen).
	Projects []ProjectChoice
	LiveEvidence
	Handling
}

// Handling is the staff's handling of a case: who has it, its tags, its
// SLA clock, and everything that happened to it.
type Handling struct {
	// Assignee is the assigned staff member's username, "" when nobody.
	AssigneeID *int
	Assignee   string
	Tags       []string
	// The SLA clock: deadlines, when staff first replied, and when the
	// case was settled; nil when not set.
	FirstResponseDue, FirstRespondedAt *time.Time
	ResolutionDue, ResolvedAt          *time.Time
	// MergedInto is the reference of the case this one was merged into
	// (following merges of merges), "" when it was not merged.
	MergedInto string
	// Timeline is everything that happened, in order; Audit the audit
	// rows about the case and the cases merged into it.
	Timeline []TimelineEntry
	Audit    []AuditLine
}

// AccountSummary names the account a case is about.
type AccountSummary struct {
	ID       int
	Username string
	Created  time.Time
}

// OutboundSummary is one mail we sent about the case, with its delivery
// status.
type OutboundSummary struct {
	To, Subject, Purpose, Status string
	At                           time.Time
	LastError                    string
}

// ProjectChoice is a project of the account.
type ProjectChoice struct {
	Name, Role, RepositoryURL string
}

// LiveEvidence is the part of the case page that changes while the jobs
// run; the page polls it.
type LiveEvidence struct {
	Assessment AssessmentVersion
	// History holds every assessment version, newest first.
	History         []AssessmentVersion
	Evidence        []Item
	Jobs            []JobProgress
	EmailChallenges []EmailChallengeState
	RepoChallenges  []RepoChallengeState
}

// Busy reports whether a job is still to run or running, so the page
// keeps polling.
func (l LiveEvidence) Busy() bool {
	for _, j := range l.Jobs {
		if j.State != JobDone && j.State != JobFailed {
			return true
		}
	}
	return false
}

// AssessmentVersion is one stored assessment.
type AssessmentVersion struct {
	Version        int
	Recommendation Recommendation
	Reasons        []string
	At             time.Time
}

// JobState is an evidence job's progress in words staff use.
type JobState string

// The job states.
const (
	JobPending  JobState = "pending"  // waiting for a worker
	JobWaiting  JobState = "waiting"  // scheduled for later (a repository check between looks)
	JobRunning  JobState = "running"  //
	JobRetrying JobState = "retrying" // failed, will be retried
	JobDone     JobState = "done"     //
	JobFailed   JobState = "failed"   // gave up
)

// JobProgress is the newest run of one evidence job.
type JobProgress struct {
	Kind, Label          string
	State                JobState
	Attempt, MaxAttempts int
	// Error is the last attempt's error, if it failed.
	Error string
	// At is when the job last changed; Next when it runs next (waiting,
	// retrying).
	At   time.Time
	Next *time.Time
}

// EmailChallengeState is one challenge link sent.
type EmailChallengeState struct {
	Address   string
	OnAccount bool
	Sent      time.Time
	Expires   time.Time
	Used      *time.Time
}

// RepoChallengeState is one repository challenge.
type RepoChallengeState struct {
	Project, Repository, Branch, Status string
	Started, Expires                    time.Time
	Checks                              int
	CheckedAt, FoundAt                  *time.Time
	LastError, Commit                   string
}

// CaseFile returns case ref as staff see it, or ErrNotFound.
func (e *Evidence) CaseFile(ctx context.Context, ref string) (*CaseFile, error) {
	c, err := e.caseByRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	f := &CaseFile{
		ID: c.ID, Reference: c.Reference, Subject: c.Subject,
		Kind: string(c.Kind), Status: string(c.Status),
		RequesterName: c.RequesterName, RequesterEmail: c.RequesterEmail,
		Created: c.CreatedAt, LastActivity: c.LastActivityAt, Intake: c.Intake,
	}
	if c.ClaimedUsername != nil {
		f.ClaimedUsername = *c.ClaimedUsername
	}
	if u := c.Edges.Account; u != nil {
		f.Account = &AccountSummary{ID: u.ID, Username: u.Username, Created: u.CreatedAt}
		if f.Projects, err = e.projectChoices(ctx, u.ID); err != nil {
			return nil, err
		}
	}
	mails, err := e.st.Ent.OutboundMail.Query().
		Where(outboundmail.CaseID(c.ID)).
		Order(ent.Asc(outboundmail.FieldCreatedAt), ent.Asc(outboundmail.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: mails of %s: %w", c.Reference, err)
	}
	for _, m := range mails {
		o := OutboundSummary{To: m.ToAddress, Subject: m.Subject, Purpose: m.Purpose, Status: string(m.Status), At: m.CreatedAt}
		if m.LastError != nil {
			o.LastError = *m.LastError
		}
		f.Mails = append(f.Mails, o)
	}
	if f.LiveEvidence, err = e.live(ctx, c.ID); err != nil {
		return nil, err
	}
	if f.Handling, err = e.handlingOf(ctx, c); err != nil {
		return nil, err
	}
	return f, nil
}

// handlingOf reads the staff's handling of case c.
func (e *Evidence) handlingOf(ctx context.Context, c *ent.SupportCase) (Handling, error) {
	tr := Handling{
		AssigneeID: c.AssigneeID, Tags: c.Tags,
		FirstResponseDue: c.FirstResponseDue, FirstRespondedAt: c.FirstRespondedAt,
		ResolutionDue: c.ResolutionDue, ResolvedAt: c.ResolvedAt,
	}
	if c.AssigneeID != nil {
		u, err := e.st.Ent.User.Get(ctx, *c.AssigneeID)
		if err != nil {
			return tr, fmt.Errorf("desk: assignee of %s: %w", c.Reference, err)
		}
		tr.Assignee = u.Username
	}
	if c.MergedIntoID != nil {
		ref, err := survivorRef(ctx, e.st.Ent, c.Reference)
		if err != nil {
			return tr, err
		}
		tr.MergedInto = ref
	}
	var err error
	if tr.Timeline, err = timeline(ctx, e.st.Ent, c); err != nil {
		return tr, err
	}
	if tr.Audit, err = auditTrail(ctx, e.st.Ent, c); err != nil {
		return tr, err
	}
	return tr, nil
}

// Live returns the evidence part of case ref's page, or ErrNotFound.
func (e *Evidence) Live(ctx context.Context, ref string) (*LiveEvidence, error) {
	c, err := e.caseByRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	l, err := e.live(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	return &l, nil
}

func (e *Evidence) caseByRef(ctx context.Context, ref string) (*ent.SupportCase, error) {
	ref, ok := NormalizeReference(ref)
	if !ok {
		return nil, ErrNotFound
	}
	c, err := e.st.Ent.SupportCase.Query().Where(supportcase.Reference(ref)).WithAccount().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("desk: case %s: %w", ref, err)
	}
	return c, nil
}

func (e *Evidence) live(ctx context.Context, caseID int) (LiveEvidence, error) {
	var l LiveEvidence
	versions, err := e.st.Ent.Assessment.Query().
		Where(assessment.CaseID(caseID)).
		Order(ent.Desc(assessment.FieldVersion)).
		All(ctx)
	if err != nil {
		return l, fmt.Errorf("desk: assessments of case %d: %w", caseID, err)
	}
	for _, v := range versions {
		l.History = append(l.History, AssessmentVersion{Version: v.Version, Recommendation: Recommendation(v.Recommendation), Reasons: v.Reasons, At: v.CreatedAt})
	}
	l.Assessment = AssessmentVersion{Recommendation: RecommendNone}
	if len(l.History) > 0 {
		l.Assessment = l.History[0]
	}
	rows, err := e.st.Ent.EvidenceItem.Query().
		Where(evidenceitem.CaseID(caseID)).
		Order(ent.Asc(evidenceitem.FieldCreatedAt), ent.Asc(evidenceitem.FieldID)).
		All(ctx)
	if err != nil {
		return l, fmt.Errorf("desk: evidence of case %d: %w", caseID, err)
	}
	l.Evidence = currentItems(rows)
	sort.SliceStable(l.Evidence, func(i, j int) bool {
		return strengthRank[l.Evidence[i].Strength] < strengthRank[l.Evidence[j].Strength]
	})
	if l.Jobs, err = e.jobProgress(ctx, caseID); err != nil {
		return l, err
	}
	links, err := e.st.Ent.ActionToken.Query().
		Where(actiontoken.CaseID(caseID), actiontoken.PurposeEQ(actiontoken.PurposeEmailChallenge)).
		Order(ent.Asc(actiontoken.FieldID)).
		All(ctx)
	if err != nil {
		return l, fmt.Errorf("desk: email challenges of case %d: %w", caseID, err)
	}
	for _, t := range links {
		s := EmailChallengeState{Sent: t.CreatedAt, Expires: t.ExpiresAt, Used: t.UsedAt}
		if t.Email != nil {
			s.Address = *t.Email
		}
		s.OnAccount, _ = t.Data[dataOnAccount].(bool)
		l.EmailChallenges = append(l.EmailChallenges, s)
	}
	repos, err := e.st.Ent.RepoChallenge.Query().
		Where(repochallenge.CaseID(caseID)).
		WithProject().
		Order(ent.Asc(repochallenge.FieldID)).
		All(ctx)
	if err != nil {
		return l, fmt.Errorf("desk: repository challenges of case %d: %w", caseID, err)
	}
	for _, r := range repos {
		s := RepoChallengeState{
			Repository: r.RepositoryURL, Branch: r.Branch, Status: string(r.Status),
			Started: r.CreatedAt, Expires: r.ExpiresAt, Checks: r.Checks,
			CheckedAt: r.CheckedAt, FoundAt: r.FoundAt, LastError: r.LastError, Commit: r.Commit,
		}
		if r.Edges.Project != nil {
			s.Project = r.Edges.Project.Name
		}
		l.RepoChallenges = append(l.RepoChallenges, s)
	}
	return l, nil
}

var strengthRank = map[Strength]int{StrengthRedFlag: 0, StrengthProof: 1, StrengthPrivate: 2, StrengthPublic: 3}

// jobProgress reads the case's evidence jobs from River (their metadata
// names the case) and keeps the newest run of each kind.
func (e *Evidence) jobProgress(ctx context.Context, caseID int) ([]JobProgress, error) {
	res, err := e.st.Jobs.JobList(ctx, river.NewJobListParams().
		Metadata(`{"case_id":`+strconv.Itoa(caseID)+`}`).
		OrderBy(river.JobListOrderByID, river.SortOrderDesc).
		First(200))
	if err != nil {
		return nil, fmt.Errorf("desk: jobs of case %d: %w", caseID, err)
	}
	newest := map[string]*rivertype.JobRow{}
	for _, j := range res.Jobs {
		if newest[j.Kind] == nil {
			newest[j.Kind] = j
		}
	}
	var out []JobProgress
	for _, jl := range jobLabels {
		j := newest[jl.kind]
		if j == nil {
			continue
		}
		out = append(out, progressOf(jl.label, j))
	}
	return out, nil
}

func progressOf(label string, j *rivertype.JobRow) JobProgress {
	p := JobProgress{Kind: j.Kind, Label: label, Attempt: j.Attempt, MaxAttempts: j.MaxAttempts, At: j.CreatedAt}
	if n := len(j.Errors); n > 0 {
		p.Error = j.Errors[n-1].Error
	}
	if j.AttemptedAt != nil {
		p.At = *j.AttemptedAt
	}
	next := j.ScheduledAt
	switch j.State {
	case rivertype.JobStateAvailable, rivertype.JobStatePending:
		p.State = JobPending
	case rivertype.JobStateScheduled:
		p.State, p.Next = JobWaiting, &next
	case rivertype.JobStateRunning:
		p.State = JobRunning
	case rivertype.JobStateRetryable:
		p.State, p.Next = JobRetrying, &next
	case rivertype.JobStateCompleted:
		p.State, p.Error = JobDone, ""
	default:
		p.State = JobFailed
	}
	if j.FinalizedAt != nil {
		p.At = *j.FinalizedAt
	}
	return p
}

func (e *Evidence) projectChoices(ctx context.Context, userID int) ([]ProjectChoice, error) {
	ps, err := e.st.Ent.Project.Query().
		Where(project.HasRolesWith(projectrole.UserID(userID))).
		WithRoles(func(q *ent.ProjectRoleQuery) { q.Where(projectrole.UserID(userID)) }).
		Order(ent.Asc(project.FieldNameNormalized)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: projects of account %d: %w", userID, err)
	}
	out := make([]ProjectChoice, 0, len(ps))
	for _, p := range ps {
		pc := ProjectChoice{Name: p.Name}
		if len(p.Edges.Roles) > 0 {
			pc.Role = string(p.Edges.Roles[0].Role)
		}
		if p.RepositoryURL != nil {
			pc.RepositoryURL = *p.RepositoryURL
		}
		out = append(out, pc)
	}
	return out, nil
}
