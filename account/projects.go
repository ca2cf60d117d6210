package account

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/project"
	"github.com/recoverydesk/recoverydesk/ent/projectrole"
	"github.com/recoverydesk/recoverydesk/ent/release"
	"github.com/recoverydesk/recoverydesk/ent/releasefile"
)

// The projects pages: a maintainer's projects, their releases and the
// upload history. Read-only here; uploads arrive through the upload API.
// A user sees only projects they hold a role in.

// ProjectRow is one of a user's projects as the projects list shows it.
type ProjectRow struct {
	Name        string
	Description string
	// Organization owns the project; "" when none does.
	Organization string
	// Role is "owner" or "maintainer"; Since is when it was given.
	Role     string
	Since    time.Time
	Releases int
	// LastUpload is the newest file's upload time, zero when none.
	LastUpload time.Time
}

// ProjectInfo is one project with its releases and uploads.
type ProjectInfo struct {
	Name          string
	Description   string
	RepositoryURL string
	Created       time.Time
	// Organization owns the project; "" when none does.
	Organization string
	// Role and Since are the viewing user's.
	Role     string
	Since    time.Time
	Members  []ProjectMember
	Releases []ReleaseInfo
	// Uploads are every file of every release, newest upload first.
	Uploads []FileInfo
}

// ProjectMember is a user with a role on a project.
type ProjectMember struct {
	Username string
	Role     string
	Since    time.Time
}

// ReleaseInfo is one version with its files (by name).
type ReleaseInfo struct {
	Version string
	Created time.Time
	Files   []FileInfo
}

// FileInfo is an uploaded file: what, when, by whom, with which token
// and from where.
type FileInfo struct {
	Version     string
	Filename    string
	PackageType string
	Size        int64
	SHA256      string
	UploadedAt  time.Time
	Uploader    string
	// Token is the name of the API token used, "" when none is recorded.
	Token string
	IP    string
}

// NormalizeProjectName is the index's rule for comparing project names:
// lower case, each run of "-", "_" and "." becomes one "-".
func NormalizeProjectName(name string) string {
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(strings.TrimSpace(name)) {
		if r == '-' || r == '_' || r == '.' {
			sep = true
			continue
		}
		if sep {
			b.WriteByte('-')
			sep = false
		}
		b.WriteRune(r)
	}
	if sep {
		b.WriteByte('-')
	}
	return b.String()
}

// ListProjects returns the projects userID has a role in, by name, with
// release counts and the latest upload.
func ListProjects(ctx context.Context, client *ent.Client, userID int) ([]ProjectRow, error) {
	roles, err := client.ProjectRole.Query().
		Where(projectrole.UserID(userID)).
		WithProject(func(q *ent.ProjectQuery) { q.WithOrganization() }).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("account: projects of user %d: %w", userID, err)
	}
	ids := make([]int, len(roles))
	for i, r := range roles {
		ids[i] = r.ProjectID
	}
	releases, err := client.Release.Query().
		Where(release.ProjectIDIn(ids...)).
		WithFiles(func(q *ent.ReleaseFileQuery) {
			q.Select(releasefile.FieldReleaseID, releasefile.FieldUploadedAt)
		}).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("account: releases of user %d's projects: %w", userID, err)
	}
	count := map[int]int{}
	last := map[int]time.Time{}
	for _, r := range releases {
		count[r.ProjectID]++
		for _, f := range r.Edges.Files {
			if f.UploadedAt.After(last[r.ProjectID]) {
				last[r.ProjectID] = f.UploadedAt
			}
		}
	}
	rows := make([]ProjectRow, len(roles))
	for i, r := range roles {
		p := r.Edges.Project
		rows[i] = ProjectRow{
			Name:        p.Name,
			Description: optionalText(p.Description),
			Role:        string(r.Role),
			Since:       r.CreatedAt,
			Releases:    count[p.ID],
			LastUpload:  last[p.ID],
		}
		if o := p.Edges.Organization; o != nil {
			rows[i].Organization = o.Name
		}
	}
	slices.SortFunc(rows, func(a, b ProjectRow) int {
		return cmp.Compare(NormalizeProjectName(a.Name), NormalizeProjectName(b.Name))
	})
	return rows, nil
}

// ProjectDetail returns the project called name (compared normalized) with
// its members, releases (newest first) and uploads, if userID has a role
// in it; otherwise ErrNotFound, whether or not the project exists, so the
// page does not reveal other people's projects.
func ProjectDetail(ctx context.Context, client *ent.Client, name string, userID int) (*ProjectInfo, error) {
	p, err := client.Project.Query().
		Where(project.NameNormalized(NormalizeProjectName(name)), project.HasRolesWith(projectrole.UserID(userID))).
		WithOrganization().
		WithRoles(func(q *ent.ProjectRoleQuery) {
			q.WithUser().Order(ent.Asc(projectrole.FieldCreatedAt), ent.Asc(projectrole.FieldID))
		}).
		WithReleases(func(q *ent.ReleaseQuery) {
			q.Order(ent.Desc(release.FieldCreatedAt), ent.Desc(release.FieldID)).
				WithFiles(func(q *ent.ReleaseFileQuery) {
					q.WithUploader().WithAPIToken().Order(ent.Asc(releasefile.FieldFilename))
				})
		}).
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, fmt.Errorf("account: project %q for user %d: %w", name, userID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("account: project %q: %w", name, err)
	}
	info := &ProjectInfo{
		Name:          p.Name,
		Description:   optionalText(p.Description),
		RepositoryURL: optionalText(p.RepositoryURL),
		Created:       p.CreatedAt,
	}
	if o := p.Edges.Organization; o != nil {
		info.Organization = o.Name
	}
	for _, r := range p.Edges.Roles {
		m := ProjectMember{Username: r.Edges.User.Username, Role: string(r.Role), Since: r.CreatedAt}
		info.Members = append(info.Members, m)
		if r.UserID == userID {
			info.Role, info.Since = m.Role, m.Since
		}
	}
	for _, r := range p.Edges.Releases {
		ri := ReleaseInfo{Version: r.Version, Created: r.CreatedAt}
		for _, f := range r.Edges.Files {
			fi := FileInfo{
				Version:     r.Version,
				Filename:    f.Filename,
				PackageType: f.PackageType,
				Size:        f.Size,
				SHA256:      f.Sha256,
				UploadedAt:  f.UploadedAt,
				Uploader:    f.Edges.Uploader.Username,
				IP:          f.IP,
			}
			if t := f.Edges.APIToken; t != nil {
				fi.Token = t.Name
			}
			ri.Files = append(ri.Files, fi)
			info.Uploads = append(info.Uploads, fi)
		}
		info.Releases = append(info.Releases, ri)
	}
	slices.SortStableFunc(info.Uploads, func(a, b FileInfo) int { return b.UploadedAt.Compare(a.UploadedAt) })
	return info, nil
}

// ProjectNames returns the names of the projects userID has a role in, in
// ListProjects' order: what a token can be scoped to, without
// ListProjects' reading of every release and file.
func ProjectNames(ctx context.Context, client *ent.Client, userID int) ([]string, error) {
	names, err := client.Project.Query().
		Where(project.HasRolesWith(projectrole.UserID(userID))).
		Order(ent.Asc(project.FieldNameNormalized)).
		Select(project.FieldName).
		Strings(ctx)
	if err != nil {
		return nil, fmt.Errorf("account: project names of user %d: %w", userID, err)
	}
	return names, nil
}

// ProjectNames is ProjectNames on the services' database.
func (s *Services) ProjectNames(ctx context.Context, userID int) ([]string, error) {
	return ProjectNames(ctx, s.Security.st.Ent, userID)
}

// ListProjects is ListProjects on the services' database.
func (s *Services) ListProjects(ctx context.Context, userID int) ([]ProjectRow, error) {
	return ListProjects(ctx, s.Security.st.Ent, userID)
}

// ProjectDetail is ProjectDetail on the services' database.
func (s *Services) ProjectDetail(ctx context.Context, name string, userID int) (*ProjectInfo, error) {
	return ProjectDetail(ctx, s.Security.st.Ent, name, userID)
}

func optionalText(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
