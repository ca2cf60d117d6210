package account

import (
	"context"
	"fmt"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/organization"
	"github.com/recoverydesk/recoverydesk/ent/project"
	"github.com/recoverydesk/recoverydesk/ent/projectrole"
	"github.com/recoverydesk/recoverydesk/ent/release"
	"github.com/recoverydesk/recoverydesk/ent/releasefile"
	"github.com/recoverydesk/recoverydesk/ent/user"
)

// The public project page, as a package index shows it to anyone: what was
// released, by whom (usernames and roles) and how (with an API token or
// not). Addresses, upload IPs and which token was used stay private; the
// maintainers' own page (ProjectDetail) shows those.

// Bounds of the public project page: a project with a long history shows
// its newest releases and says how many there are in all.
const (
	PublicReleaseLimit    = 50
	PublicMaintainerLimit = 100
)

// PublicProject is a project as anyone may see it.
type PublicProject struct {
	Name          string
	Description   string
	RepositoryURL string
	Created       time.Time
	// Organization is the owning organization's name, "" for a project
	// of its users only.
	Organization string
	// Maintainers are owners first, then by date; at most
	// PublicMaintainerLimit.
	Maintainers []PublicMaintainer
	// Releases are the newest first, at most PublicReleaseLimit of
	// ReleaseCount.
	Releases     []PublicRelease
	ReleaseCount int
}

// PublicMaintainer is a user with a role on the project.
type PublicMaintainer struct {
	Username string
	Role     string
}

// PublicRelease is a version and its files, by file name.
type PublicRelease struct {
	Version string
	Created time.Time
	Files   []PublicFile
}

// PublicFile is an uploaded file as the public sees it.
type PublicFile struct {
	Filename      string
	PackageType   string
	PythonVersion string
	Size          int64
	SHA256        string
	UploadedAt    time.Time
	Uploader      string
	// ViaToken says the upload used an API token; which one is the
	// owner's business.
	ViaToken bool
}

// PublicProjectPage returns the project called name (compared normalized)
// as anyone may see it, or ErrNotFound. Every query is bounded by an index
// and a limit, so a project with thousands of files costs as much as one
// with fifty releases.
func PublicProjectPage(ctx context.Context, client *ent.Client, name string) (*PublicProject, error) {
	p, err := client.Project.Query().
		Where(project.NameNormalized(NormalizeProjectName(name))).
		WithOrganization(func(q *ent.OrganizationQuery) { q.Select(organization.FieldName) }).
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, fmt.Errorf("account: public project %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("account: public project %q: %w", name, err)
	}
	out := &PublicProject{
		Name:          p.Name,
		Description:   optionalText(p.Description),
		RepositoryURL: optionalText(p.RepositoryURL),
		Created:       p.CreatedAt,
	}
	if o := p.Edges.Organization; o != nil {
		out.Organization = o.Name
	}

	roles, err := client.ProjectRole.Query().
		Where(projectrole.ProjectID(p.ID)).
		WithUser(func(q *ent.UserQuery) { q.Select(user.FieldUsername) }).
		// Owners first: "owner" sorts after "maintainer".
		Order(ent.Desc(projectrole.FieldRole), ent.Asc(projectrole.FieldCreatedAt), ent.Asc(projectrole.FieldID)).
		Limit(PublicMaintainerLimit).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("account: maintainers of %q: %w", p.Name, err)
	}
	for _, r := range roles {
		out.Maintainers = append(out.Maintainers, PublicMaintainer{Username: r.Edges.User.Username, Role: string(r.Role)})
	}

	releases := client.Release.Query().Where(release.ProjectID(p.ID))
	rs, err := releases.Clone().
		Order(ent.Desc(release.FieldCreatedAt), ent.Desc(release.FieldID)).
		Limit(PublicReleaseLimit).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("account: releases of %q: %w", p.Name, err)
	}
	out.ReleaseCount = len(rs)
	if len(rs) == PublicReleaseLimit {
		if out.ReleaseCount, err = releases.Count(ctx); err != nil {
			return nil, fmt.Errorf("account: count releases of %q: %w", p.Name, err)
		}
	}
	if len(rs) == 0 {
		return out, nil
	}
	ids := make([]int, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	// Only the public columns: the IP and the token's identity are never
	// read for this page.
	files, err := client.ReleaseFile.Query().
		Where(releasefile.ReleaseIDIn(ids...)).
		Select(releasefile.FieldReleaseID, releasefile.FieldFilename, releasefile.FieldPackageType,
			releasefile.FieldPythonVersion, releasefile.FieldSize, releasefile.FieldSha256,
			releasefile.FieldUploadedAt, releasefile.FieldUploaderID, releasefile.FieldAPITokenID).
		WithUploader(func(q *ent.UserQuery) { q.Select(user.FieldUsername) }).
		Order(ent.Asc(releasefile.FieldFilename)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("account: files of %q: %w", p.Name, err)
	}
	byRelease := make(map[int][]PublicFile, len(rs))
	for _, f := range files {
		byRelease[f.ReleaseID] = append(byRelease[f.ReleaseID], PublicFile{
			Filename:      f.Filename,
			PackageType:   f.PackageType,
			PythonVersion: optionalText(f.PythonVersion),
			Size:          f.Size,
			SHA256:        f.Sha256,
			UploadedAt:    f.UploadedAt,
			Uploader:      f.Edges.Uploader.Username,
			ViaToken:      f.APITokenID != nil,
		})
	}
	for _, r := range rs {
		out.Releases = append(out.Releases, PublicRelease{Version: r.Version, Created: r.CreatedAt, Files: byRelease[r.ID]})
	}
	return out, nil
}

// PublicProjectPage is PublicProjectPage on the services' database.
func (s *Services) PublicProjectPage(ctx context.Context, name string) (*PublicProject, error) {
	return PublicProjectPage(ctx, s.Security.st.Ent, name)
}
