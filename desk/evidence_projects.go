package desk

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/organization"
	"github.com/recoverydesk/recoverydesk/ent/organizationmember"
	"github.com/recoverydesk/recoverydesk/ent/project"
	"github.com/recoverydesk/recoverydesk/ent/projectrole"
	"github.com/recoverydesk/recoverydesk/ent/releasefile"
	"github.com/recoverydesk/recoverydesk/ent/schema/types"
)

// dateLayout is how evidence summaries write dates.
const dateLayout = "2006-01-02"

// checkClaims looks up each claimed project and organization and the
// account's role in it since when. Anyone can read these facts, so they
// are public knowledge whatever they say.
func (e *Evidence) checkClaims(ctx context.Context, caseID int) error {
	c, u, err := caseAccount(ctx, e.st.Ent, caseID)
	if err != nil || u == nil {
		return err
	}
	var items []newItem
	for _, name := range c.Intake.ClaimedProjects {
		it, err := e.projectClaim(ctx, u, name)
		if err != nil {
			return err
		}
		items = append(items, it)
	}
	for _, name := range c.Intake.ClaimedOrganizations {
		it, err := e.organizationClaim(ctx, u, name)
		if err != nil {
			return err
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return nil
	}
	return e.storeItems(ctx, caseID, items)
}

func (e *Evidence) projectClaim(ctx context.Context, u *ent.User, name string) (newItem, error) {
	it := newItem{kind: KindClaimedProject, strength: StrengthPublic, source: "project roles"}
	p, err := e.st.Ent.Project.Query().
		Where(project.NameNormalized(account.NormalizeProjectName(name))).
		WithOrganization().
		WithRoles(func(q *ent.ProjectRoleQuery) { q.Where(projectrole.UserID(u.ID)) }).
		Only(ctx)
	switch {
	case ent.IsNotFound(err):
		it.key = "claimed_project:" + account.NormalizeProjectName(name) + ":missing"
		it.finding = types.Finding{Summary: fmt.Sprintf("Claims the project %q, which does not exist.", name), Match: boolPtr(false)}
		return it, nil
	case err != nil:
		return it, fmt.Errorf("desk: claimed project %q: %w", name, err)
	}
	details := map[string]any{"project": p.Name}
	org := ""
	if p.Edges.Organization != nil {
		org = fmt.Sprintf(" (organization %s)", p.Edges.Organization.Name)
		details["organization"] = p.Edges.Organization.Name
	}
	if len(p.Edges.Roles) == 0 {
		it.key = fmt.Sprintf("claimed_project:%d:none", p.ID)
		it.finding = types.Finding{Summary: fmt.Sprintf("Claims %s%s, but the account has no role in it.", p.Name, org), Match: boolPtr(false), Details: details}
		return it, nil
	}
	r := p.Edges.Roles[0]
	details["role"] = string(r.Role)
	details["since"] = r.CreatedAt.Format(dateLayout)
	it.key = fmt.Sprintf("claimed_project:%d:%s", p.ID, r.Role)
	it.finding = types.Finding{
		Summary: fmt.Sprintf("Claims %s%s: the account is %s since %s.", p.Name, org, r.Role, r.CreatedAt.Format(dateLayout)),
		Match:   boolPtr(true), At: timePtr(r.CreatedAt), Details: details,
	}
	return it, nil
}

func (e *Evidence) organizationClaim(ctx context.Context, u *ent.User, name string) (newItem, error) {
	it := newItem{kind: KindClaimedOrganization, strength: StrengthPublic, source: "organization members"}
	norm := account.NormalizeOrganizationName(name)
	o, err := e.st.Ent.Organization.Query().
		Where(organization.NameNormalized(norm)).
		WithMembers(func(q *ent.OrganizationMemberQuery) { q.Where(organizationmember.UserID(u.ID)) }).
		Only(ctx)
	switch {
	case ent.IsNotFound(err):
		it.key = "claimed_organization:" + norm + ":missing"
		it.finding = types.Finding{Summary: fmt.Sprintf("Claims the organization %q, which does not exist.", name), Match: boolPtr(false)}
		return it, nil
	case err != nil:
		return it, fmt.Errorf("desk: claimed organization %q: %w", name, err)
	}
	if len(o.Edges.Members) == 0 {
		it.key = fmt.Sprintf("claimed_organization:%d:none", o.ID)
		it.finding = types.Finding{Summary: fmt.Sprintf("Claims the organization %s, but the account is not a member.", o.Name), Match: boolPtr(false)}
		return it, nil
	}
	m := o.Edges.Members[0]
	it.key = fmt.Sprintf("claimed_organization:%d:%s", o.ID, m.Role)
	it.finding = types.Finding{
		Summary: fmt.Sprintf("Claims the organization %s: the account is %s since %s.", o.Name, m.Role, m.CreatedAt.Format(dateLayout)),
		Match:   boolPtr(true), At: timePtr(m.CreatedAt),
		Details: map[string]any{"organization": o.Name, "role": string(m.Role), "since": m.CreatedAt.Format(dateLayout)},
	}
	return it, nil
}

// projectUploads is the account's upload record for one project.
type projectUploads struct {
	project        string
	files          int
	first, last    time.Time
	lastVersion    string
	lastFile       string
	releaseVersion map[string]bool
	// tokenFiles were uploaded with an API token; lastViaToken says
	// whether the last one was.
	tokenFiles   int
	lastViaToken bool
}

// checkUploads summarises the account's uploads per project, with dates,
// and compares the claimed last upload (a month) with the real one.
func (e *Evidence) checkUploads(ctx context.Context, caseID int) error {
	c, u, err := caseAccount(ctx, e.st.Ent, caseID)
	if err != nil || u == nil {
		return err
	}
	files, err := e.st.Ent.ReleaseFile.Query().
		Where(releasefile.UploaderID(u.ID)).
		WithRelease(func(q *ent.ReleaseQuery) { q.WithProject() }).
		Order(ent.Asc(releasefile.FieldUploadedAt), ent.Asc(releasefile.FieldID)).
		All(ctx)
	if err != nil {
		return fmt.Errorf("desk: uploads of %s: %w", u.Username, err)
	}
	byProject := map[string]*projectUploads{}
	var latest *ent.ReleaseFile
	for _, f := range files {
		rel := f.Edges.Release
		if rel == nil || rel.Edges.Project == nil {
			continue
		}
		name := rel.Edges.Project.Name
		pu := byProject[name]
		if pu == nil {
			pu = &projectUploads{project: name, first: f.UploadedAt, releaseVersion: map[string]bool{}}
			byProject[name] = pu
		}
		pu.files++
		pu.last, pu.lastVersion, pu.lastFile = f.UploadedAt, rel.Version, f.Filename
		pu.releaseVersion[rel.Version] = true
		pu.lastViaToken = f.APITokenID != nil
		if pu.lastViaToken {
			pu.tokenFiles++
		}
		latest = f
	}
	names := make([]string, 0, len(byProject))
	for n := range byProject {
		names = append(names, n)
	}
	sort.Strings(names)
	var items []newItem
	for _, n := range names {
		pu := byProject[n]
		items = append(items, newItem{
			kind: KindUploadHistory, strength: StrengthPublic, source: "upload records",
			key: fmt.Sprintf("upload_history:%s:%d:%s", n, pu.files, pu.last.UTC().Format(time.RFC3339)),
			finding: types.Finding{
				Summary: fmt.Sprintf("Uploaded %d files in %d releases of %s, from %s to %s (last: %s, version %s); %s.",
					pu.files, len(pu.releaseVersion), n, pu.first.Format(dateLayout), pu.last.Format("2006-01-02 15:04 MST"),
					pu.lastFile, pu.lastVersion, tokenShare(pu.tokenFiles, pu.files, pu.lastViaToken)),
				At: timePtr(pu.last),
				Details: map[string]any{
					"project": n, "files": pu.files, "first": pu.first.Format(dateLayout), "last": pu.last.Format(dateLayout),
					"last_at": pu.last.UTC().Format(time.RFC3339), "last_version": pu.lastVersion, "last_file": pu.lastFile,
					"last_via_token": pu.lastViaToken, "token_files": pu.tokenFiles,
				},
			},
		})
	}
	if claim := c.Intake.LastUpload; claim != "" {
		items = append(items, uploadClaim(claim, latest))
	}
	if len(items) == 0 {
		return nil
	}
	return e.storeItems(ctx, caseID, items)
}

// tokenShare says how many of files were uploaded with an API token,
// and how the last one was when they differ.
func tokenShare(withToken, files int, lastViaToken bool) string {
	switch withToken {
	case files:
		return "all with an API token"
	case 0:
		return "none with an API token"
	}
	last := "without"
	if lastViaToken {
		last = "with"
	}
	return fmt.Sprintf("%d of them with an API token, the last one %s", withToken, last)
}

// uploadClaim compares a claimed last-upload month with the real last
// upload; a month either side agrees.
func uploadClaim(claim string, latest *ent.ReleaseFile) newItem {
	it := newItem{kind: KindUploadClaim, strength: StrengthPublic, source: "upload records", key: "upload_claim:" + claim}
	if latest != nil {
		// A new upload during the case is a new comparison.
		it.key += ":" + latest.UploadedAt.UTC().Format(time.RFC3339)
	}
	month, err := time.Parse("2006-01", claim)
	switch {
	case err != nil:
		it.finding = types.Finding{Summary: fmt.Sprintf("Says the last upload was %q, which is not a month.", claim), Match: boolPtr(false)}
	case latest == nil:
		it.finding = types.Finding{Summary: fmt.Sprintf("Says the last upload was in %s; the account has never uploaded.", claim), Match: boolPtr(false)}
	default:
		off := monthsBetween(month, latest.UploadedAt)
		rel := latest.Edges.Release
		what := latest.Filename
		if rel != nil && rel.Edges.Project != nil {
			what = rel.Edges.Project.Name + " " + rel.Version
		}
		it.finding = types.Finding{
			Summary: fmt.Sprintf("Says the last upload was in %s; the account's last upload was %s on %s.", claim, what, latest.UploadedAt.Format(dateLayout)),
			Match:   boolPtr(off <= 1), At: timePtr(latest.UploadedAt),
			Details: map[string]any{"claimed": claim, "actual": latest.UploadedAt.Format(dateLayout), "months_off": off},
		}
	}
	return it
}

// monthsBetween counts calendar months between a and b, whichever is
// later.
func monthsBetween(a, b time.Time) int {
	n := (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
	if n < 0 {
		n = -n
	}
	return n
}
