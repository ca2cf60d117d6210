package seed

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/organizationmember"
	"github.com/recoverydesk/recoverydesk/ent/projectrole"
)

// demoOrganization is the one organization of the demo set.
const demoOrganization = "acme-labs"

// projectSpec is a demo project with its roles; the first role is the
// founding owner and sets the project's creation date.
type projectSpec struct {
	name        string
	description string
	org         string // "" for a personal project
	roles       []roleSpec
	// sdistSize is the first release's sdist size; later ones grow.
	sdistSize int64
}

// roleSpec gives a user a role on a project since a date.
type roleSpec struct {
	username string
	role     projectrole.Role
	since    time.Time
}

// demoProjects lists the demo projects; release planning walks them in this
// order, so reordering changes the generated releases.
func demoProjects() []projectSpec {
	owner, maintainer := projectrole.RoleOwner, projectrole.RoleMaintainer
	return []projectSpec{
		{name: "tinyjson", description: "A small, strict JSON parser with no dependencies.", sdistSize: 18_400,
			roles: []roleSpec{{"erin", owner, at(2019, 5, 20, 10, 0)}, {"bob", maintainer, at(2021, 2, 15, 16, 30)}}},
		{name: "pathwalk", description: "Walk directory trees with glob filters and symlink-loop detection.", sdistSize: 11_200,
			roles: []roleSpec{{"erin", owner, at(2020, 2, 3, 21, 45)}}},
		{name: "fastcsv", description: "Fast CSV reading and writing with type inference.", sdistSize: 64_900,
			roles: []roleSpec{{"dave", owner, at(2019, 11, 8, 18, 20)}, {"carol", maintainer, at(2022, 6, 1, 9, 0)}}},
		{name: "colorlog", description: "Coloured, levelled console logging for command-line tools.", sdistSize: 9_800,
			roles: []roleSpec{{"bob", owner, at(2020, 8, 17, 12, 5)}}},
		{name: "retry-kit", description: "Retries with exponential backoff, jitter and deadlines.", sdistSize: 14_300,
			roles: []roleSpec{{"carol", owner, at(2021, 3, 22, 15, 10)}, {"dave", maintainer, at(2023, 1, 9, 10, 40)}}},
		{name: "acme-http", description: "HTTP client defaults shared by Acme Labs services.", org: demoOrganization, sdistSize: 27_600,
			roles: []roleSpec{{"bob", owner, at(2021, 4, 20, 11, 30)}, {"erin", maintainer, at(2021, 6, 7, 14, 0)}}},
		{name: "acme-metrics", description: "StatsD and Prometheus helpers used across Acme Labs.", org: demoOrganization, sdistSize: 21_000,
			roles: []roleSpec{{"bob", owner, at(2022, 9, 12, 8, 50)}, {"erin", maintainer, at(2022, 10, 3, 17, 25)}}},
	}
}

// insertProjects creates the organization, the projects with their roles,
// one upload token per uploader, and the planned releases and files.
func insertProjects(ctx context.Context, client *ent.Client, users demoUsers) error {
	org, err := client.Organization.Create().
		SetName(demoOrganization).SetNameNormalized(demoOrganization).
		SetCreatedAt(at(2021, 4, 12, 9, 0)).Save(ctx)
	if err != nil {
		return fmt.Errorf("seed: organization: %w", err)
	}
	if _, err := client.OrganizationMember.CreateBulk(
		client.OrganizationMember.Create().SetOrganizationID(org.ID).SetUserID(users["bob"]).
			SetRole(organizationmember.RoleOwner).SetCreatedAt(at(2021, 4, 12, 9, 5)),
		client.OrganizationMember.Create().SetOrganizationID(org.ID).SetUserID(users["erin"]).
			SetRole(organizationmember.RoleMember).SetCreatedAt(at(2021, 5, 3, 14, 20)),
	).Save(ctx); err != nil {
		return fmt.Errorf("seed: organization members: %w", err)
	}

	specs := demoProjects()
	projectIDs := make([]int, len(specs))
	for i, p := range specs {
		owner := p.roles[0].username
		c := client.Project.Create().
			SetName(p.name).SetNameNormalized(normalizeProjectName(p.name)).
			SetDescription(p.description).SetCreatedAt(p.roles[0].since)
		if p.org != "" {
			c.SetOrganizationID(org.ID)
			owner = p.org
		}
		c.SetRepositoryURL("https://git.example.org/" + owner + "/" + p.name)
		proj, err := c.Save(ctx)
		if err != nil {
			return fmt.Errorf("seed: project %s: %w", p.name, err)
		}
		projectIDs[i] = proj.ID
		roles := make([]*ent.ProjectRoleCreate, len(p.roles))
		for j, r := range p.roles {
			roles[j] = client.ProjectRole.Create().SetProjectID(proj.ID).SetUserID(users[r.username]).
				SetRole(r.role).SetCreatedAt(r.since)
		}
		if _, err := client.ProjectRole.CreateBulk(roles...).Save(ctx); err != nil {
			return fmt.Errorf("seed: roles of %s: %w", p.name, err)
		}
	}

	releases := planReleases(specs)
	tokens, err := insertUploadTokens(ctx, client, users, releases)
	if err != nil {
		return err
	}
	return insertReleases(ctx, client, users, tokens, projectIDs, releases)
}

// normalizeProjectName is the index's rule: lower case, each run of "-",
// "_" and "." becomes one "-".
func normalizeProjectName(name string) string {
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(name) {
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
	return b.String()
}

// insertUploadTokens creates one account-wide "CI upload" token for each
// user who uploads, made just before their first upload and last used at
// their last one; it returns the token IDs by username.
func insertUploadTokens(ctx context.Context, client *ent.Client, users demoUsers, releases []plannedRelease) (map[string]int, error) {
	first, last := map[string]time.Time{}, map[string]time.Time{}
	var order []string // first-upload order, for a stable insert order
	for _, r := range releases {
		if _, ok := first[r.uploader]; !ok {
			order = append(order, r.uploader)
		}
		if f, ok := first[r.uploader]; !ok || r.at.Before(f) {
			first[r.uploader] = r.at
		}
		if r.at.After(last[r.uploader]) {
			last[r.uploader] = r.at
		}
	}
	ids := map[string]int{}
	for _, username := range order {
		prefix, hash := apiToken(username)
		tok, err := client.APIToken.Create().
			SetUserID(users[username]).SetName("CI upload").
			SetPrefix(prefix).SetTokenHash(hash).
			SetCreatedAt(first[username].Add(-2 * time.Hour)).
			SetLastUsedAt(last[username]).
			Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("seed: upload token of %s: %w", username, err)
		}
		ids[username] = tok.ID
	}
	return ids, nil
}

// insertReleases writes the planned releases and their files.
func insertReleases(ctx context.Context, client *ent.Client, users demoUsers, tokens map[string]int, projectIDs []int, releases []plannedRelease) error {
	for _, r := range releases {
		rel, err := client.Release.Create().
			SetProjectID(projectIDs[r.project]).SetVersion(r.version).SetCreatedAt(r.at).
			Save(ctx)
		if err != nil {
			return fmt.Errorf("seed: release %s: %w", r.version, err)
		}
		files := make([]*ent.ReleaseFileCreate, len(r.files))
		for i, f := range r.files {
			files[i] = client.ReleaseFile.Create().
				SetReleaseID(rel.ID).SetFilename(f.filename).SetSize(f.size).
				SetSha256(fileSHA256(f.filename)).
				SetPackageType(f.packageType).SetPythonVersion(f.pythonVersion).
				SetUploadedAt(r.at).SetUploaderID(users[r.uploader]).SetAPITokenID(tokens[r.uploader]).
				SetIP(r.ip).SetStorageKey("demo/" + f.filename)
		}
		if _, err := client.ReleaseFile.CreateBulk(files...).Save(ctx); err != nil {
			return fmt.Errorf("seed: files of release %s: %w", r.version, err)
		}
	}
	return nil
}
