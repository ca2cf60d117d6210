package web

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// deskCasePath is the staff page of case ref.
func deskCasePath(ref string) string { return desk.PathDeskCase + url.PathEscape(ref) }

// deskCaseShow is the staff case page. A case merged into another
// redirects to the survivor, following merges of merges.
func (h *handler) deskCaseShow(c *fiber.Ctx) error {
	return h.renderDeskCaseForm(c, c.Params("ref"), fiber.StatusOK, pages.DeskCaseForm{}, nil)
}

// deskCaseEvidence answers the case page's live region alone, for the
// page's script to swap in.
func (h *handler) deskCaseEvidence(c *fiber.Ctx) error {
	if h.ev == nil {
		return fiber.ErrNotFound
	}
	ref := c.Params("ref")
	l, err := h.ev.Live(c.UserContext(), ref)
	if errors.Is(err, desk.ErrNotFound) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("web: evidence of case %q: %w", ref, err)
	}
	norm, _ := desk.NormalizeReference(ref)
	return render(c, fiber.StatusOK, pages.DeskLiveRegion(h.liveView(norm, *l)))
}

// deskRepoChallenge starts a repository challenge for the chosen project.
// A refused project re-renders the page with the error next to the
// field; success goes back to the page with a confirmation.
func (h *handler) deskRepoChallenge(c *fiber.Ctx) error {
	if h.ev == nil {
		return fiber.ErrNotFound
	}
	ref, project := c.Params("ref"), c.FormValue("project")
	if project == "" {
		return h.renderDeskCase(c, ref, fiber.StatusUnprocessableEntity, project,
			map[string]string{"project": "Choose the project whose repository the requester should push to."})
	}
	ch, err := h.ev.StartRepoChallenge(c.UserContext(), ref, project, currentSession(c).UserID)
	var fields desk.FieldErrors
	switch {
	case errors.As(err, &fields):
		return h.renderDeskCase(c, ref, fiber.StatusUnprocessableEntity, project, fields)
	case errors.Is(err, desk.ErrNotFound):
		return fiber.ErrNotFound
	case err != nil:
		return fmt.Errorf("web: start repository challenge on %q: %w", ref, err)
	}
	norm, _ := desk.NormalizeReference(ref)
	return h.redirectWithFlash(c, deskCasePath(norm), "success",
		fmt.Sprintf("Repository challenge started: we asked the requester to push the branch %s to %s.", ch.Branch, ch.RepositoryURL))
}

// renderDeskCase renders the staff case page; project and errs are the
// repository challenge form's state (or another form's errors, keyed by
// field).
func (h *handler) renderDeskCase(c *fiber.Ctx, ref string, status int, project string, errs map[string]string) error {
	return h.renderDeskCaseForm(c, ref, status, pages.DeskCaseForm{Project: project}, errs)
}

// renderDeskCaseForm renders the staff case page with the action forms
// holding form and errs next to their fields.
func (h *handler) renderDeskCaseForm(c *fiber.Ctx, ref string, status int, form pages.DeskCaseForm, errs map[string]string) error {
	if h.ev == nil {
		return fiber.ErrNotFound
	}
	f, err := h.ev.CaseFile(c.UserContext(), ref)
	if errors.Is(err, desk.ErrNotFound) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("web: desk case %q: %w", ref, err)
	}
	if f.MergedInto != "" {
		return c.Redirect(deskCasePath(f.MergedInto), fiber.StatusSeeOther)
	}
	project := form.Project
	now := h.now()
	v := pages.DeskCaseView{
		Page:          h.page(c, f.Reference+": "+f.Subject),
		Reference:     f.Reference,
		Subject:       f.Subject,
		Status:        f.Status,
		Kind:          f.Kind,
		RequesterName: f.RequesterName, RequesterEmail: f.RequesterEmail,
		Opened: f.Created, LastActivity: f.LastActivity,
		Request: pages.DeskRequest{
			ClaimedUsername: f.ClaimedUsername,
			StillHas:        stillHas(f),
			Explanation:     f.Intake.Explanation,
			Projects:        f.Intake.ClaimedProjects,
			Organizations:   f.Intake.ClaimedOrganizations,
			AccountCreated:  f.Intake.AccountCreated,
			LastUpload:      f.Intake.LastUpload,
			TwoFactorMethod: pages.TwoFactorWords(f.Intake.TwoFactorMethod),
			PreviousEmails:  f.Intake.PreviousEmails,
		},
		Live:    h.liveView(f.Reference, f.LiveEvidence),
		Linked:  f.Account != nil,
		Project: project,
		Errors:  errs,
		LiveJS:  h.assets.url("desk_live.js"),
	}
	if f.Account != nil {
		v.Request.Account = f.Account.Username
	}
	for _, e := range f.EmailChallenges {
		state := "Waiting"
		switch {
		case e.Used != nil:
			state = "Answered " + e.Used.UTC().Format("2 Jan 2006, 15:04 UTC")
		case !now.Before(e.Expires):
			state = "Expired"
		}
		v.EmailChallenges = append(v.EmailChallenges, pages.DeskEmailChallenge{
			Address: e.Address, OnAccount: e.OnAccount, Sent: e.Sent, Expires: e.Expires, State: state,
		})
	}
	for _, r := range f.RepoChallenges {
		v.RepoChallenges = append(v.RepoChallenges, pages.DeskRepoChallenge{
			Project: r.Project, Repository: r.Repository, Branch: r.Branch, Status: r.Status,
			Checks: r.Checks, CheckedAt: r.CheckedAt, FoundAt: r.FoundAt, LastError: r.LastError, Commit: r.Commit,
			Expires: r.Expires,
		})
	}
	for _, p := range f.Projects {
		v.Projects = append(v.Projects, pages.DeskProject{Name: p.Name, Role: p.Role, RepositoryURL: p.RepositoryURL})
	}
	for _, m := range f.Mails {
		v.Mails = append(v.Mails, pages.DeskMail{To: m.To, Subject: m.Subject, Purpose: m.Purpose, Status: m.Status, LastError: m.LastError, At: m.At})
	}
	if err := h.fillHandling(c, &v, f, form, now); err != nil {
		return err
	}
	return render(c, status, pages.DeskCase(v))
}

// fillHandling adds the triage part of the case page: header, action
// forms, presence, timeline, audit trail and the decision panel.
func (h *handler) fillHandling(c *fiber.Ctx, v *pages.DeskCaseView, f *desk.CaseFile, form pages.DeskCaseForm, now time.Time) error {
	ctx := c.UserContext()
	stopped := desk.Settled(supportcase.Status(f.Status)) || f.Status == string(supportcase.StatusResetScheduled)
	v.Assignee, v.Tags = f.Assignee, f.Tags
	v.FirstResponse = pages.SLAWords(f.FirstResponseDue, f.FirstRespondedAt, stopped, now)
	v.Resolution = pages.SLAWords(f.ResolutionDue, f.ResolvedAt, stopped, now)
	if form.Tags == "" && v.Errors["tags"] == "" {
		form.Tags = strings.Join(f.Tags, ", ")
	}
	if form.Assignee == "" && f.AssigneeID != nil && v.Errors["assignee"] == "" {
		form.Assignee = strconv.Itoa(*f.AssigneeID)
	}
	if form.Status == "" {
		form.Status = f.Status
	}
	v.Form = form
	for _, st := range desk.ManualStatuses {
		v.Statuses = append(v.Statuses, string(st))
	}
	for _, e := range f.Timeline {
		v.Timeline = append(v.Timeline, pages.DeskTimelineEntry{
			At: e.At, Kind: e.Kind, Actor: e.Actor, Title: e.Title, Body: e.Body,
			Subject: e.Subject, Channel: e.Channel, Delivery: e.Delivery, Internal: e.Internal,
		})
	}
	for _, a := range f.Audit {
		v.Audit = append(v.Audit, pages.DeskAuditLine{At: a.At, Actor: a.Actor, Action: a.Action, Case: a.Case, Details: a.Details})
	}
	v.Decision = h.decisionView(c, f)
	v.Presence.Src = deskCasePath(f.Reference) + "/presence"
	if h.tr == nil {
		return nil
	}
	staff, err := h.tr.StaffMembers(ctx)
	if err != nil {
		return fmt.Errorf("web: desk case %s: %w", f.Reference, err)
	}
	for _, m := range staff {
		v.Staff = append(v.Staff, pages.DeskStaff{ID: m.ID, Username: m.Username, Role: m.Role})
	}
	canned, err := h.tr.CannedReplies(ctx)
	if err != nil {
		return fmt.Errorf("web: desk case %s: %w", f.Reference, err)
	}
	for _, r := range canned {
		v.Canned = append(v.Canned, pages.DeskCanned{ID: r.ID, Name: r.Name, Body: r.Body})
	}
	if s := currentSession(c); s != nil {
		v.ViewerID = s.UserID
		if v.Presence.Others, err = h.presence(ctx, f.Reference, s.UserID); err != nil {
			return err
		}
	}
	return nil
}

// stillHas lists, in words, what the requester said still works.
func stillHas(f *desk.CaseFile) []string {
	var out []string
	in := f.Intake
	if in.HasPassword {
		out = append(out, "the password")
	}
	if in.HasEmailAccess {
		out = append(out, "mail to an address on the account")
	}
	if in.HasRecoveryCodes {
		out = append(out, "recovery codes")
	}
	if in.HasDevice {
		out = append(out, "the phone or security key")
	}
	return out
}

// strengthGroups are the evidence groups in the order the page shows
// them, red flags first.
var strengthGroups = []struct {
	strength desk.Strength
	label    string
}{
	{desk.StrengthRedFlag, "Red flag"},
	{desk.StrengthProof, "Proof of control"},
	{desk.StrengthPrivate, "Private knowledge"},
	{desk.StrengthPublic, "Public knowledge"},
}

// jobStateWords are the job states as the page writes them: a state is
// never told by colour alone.
var jobStateWords = map[desk.JobState]string{
	desk.JobPending:  "Pending",
	desk.JobWaiting:  "Waiting",
	desk.JobRunning:  "Running",
	desk.JobRetrying: "Retrying",
	desk.JobDone:     "Done",
	desk.JobFailed:   "Failed",
}

// liveView is the live region of case ref.
func (h *handler) liveView(ref string, l desk.LiveEvidence) pages.DeskLive {
	v := pages.DeskLive{
		Src:  deskCasePath(ref) + "/evidence",
		Busy: l.Busy(),
		Current: pages.DeskAssessment{
			Version: l.Assessment.Version, Recommendation: l.Assessment.Recommendation.Describe(),
			Reasons: l.Assessment.Reasons, At: l.Assessment.At,
		},
	}
	for i, a := range l.History {
		if i == 0 && a.Version == l.Assessment.Version {
			continue // the current one, shown above
		}
		v.Older = append(v.Older, pages.DeskAssessment{
			Version: a.Version, Recommendation: a.Recommendation.Describe(), Reasons: a.Reasons, At: a.At,
		})
	}
	for _, j := range l.Jobs {
		words := jobStateWords[j.State]
		if words == "" {
			words = string(j.State)
		}
		v.Jobs = append(v.Jobs, pages.DeskJob{
			Label: j.Label, State: string(j.State), StateLabel: words,
			Attempt: j.Attempt, MaxAttempts: j.MaxAttempts, Error: j.Error, At: j.At, Next: j.Next,
		})
	}
	for _, g := range strengthGroups {
		group := pages.DeskEvidenceGroup{Strength: string(g.strength), Label: g.label}
		for _, it := range l.Evidence {
			if it.Strength != g.strength {
				continue
			}
			group.Items = append(group.Items, pages.DeskEvidence{
				Summary: it.Finding.Summary, Kind: it.Kind, Source: it.Source,
				Discounted: it.Finding.Discounted, Match: it.Finding.Match, Recorded: it.RecordedAt,
			})
		}
		if len(group.Items) > 0 {
			v.Groups = append(v.Groups, group)
		}
	}
	return v
}
