package account_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/projectrole"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// projectFactory makes projects, roles, releases and files with names
// unique to the test (project and file names are unique index-wide).
type projectFactory struct {
	t      *testing.T
	client *ent.Client
	tag    string
}

func newProjectFactory(t *testing.T, client *ent.Client) *projectFactory {
	return &projectFactory{t: t, client: client, tag: fmt.Sprintf("%d", time.Now().UnixNano())}
}

func (f *projectFactory) project(name string, created time.Time) *ent.Project {
	f.t.Helper()
	full := name + "_" + f.tag
	p, err := f.client.Project.Create().SetName(full).SetNameNormalized(account.NormalizeProjectName(full)).
		SetDescription("About " + name).SetRepositoryURL("https://git.example.org/" + full).SetCreatedAt(created).
		Save(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *projectFactory) role(p *ent.Project, u *ent.User, role projectrole.Role, since time.Time) {
	f.t.Helper()
	if err := f.client.ProjectRole.Create().SetProjectID(p.ID).SetUserID(u.ID).SetRole(role).SetCreatedAt(since).Exec(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

func (f *projectFactory) release(p *ent.Project, version string, created time.Time) *ent.Release {
	f.t.Helper()
	r, err := f.client.Release.Create().SetProjectID(p.ID).SetVersion(version).SetCreatedAt(created).Save(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func (f *projectFactory) file(r *ent.Release, name string, uploader *ent.User, at time.Time, ip string, token *ent.APIToken) string {
	f.t.Helper()
	full := f.tag + "-" + name
	c := f.client.ReleaseFile.Create().SetReleaseID(r.ID).SetFilename(full).SetSize(18_400).
		SetSha256("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855").SetPackageType("sdist").
		SetUploadedAt(at).SetUploaderID(uploader.ID).SetIP(ip).SetStorageKey("blobs/" + full)
	if token != nil {
		c.SetAPITokenID(token.ID)
	}
	if err := c.Exec(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	return full
}

func TestProjectsListAndDetail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.Store(t)
	f := newProjectFactory(t, st.Ent)
	u, other := makeUser(t, st.Ent), makeUser(t, st.Ent)
	day := func(d int) time.Time { return time.Date(2024, 3, d, 10, 0, 0, 0, time.UTC) }

	json := f.project("Tiny.JSON", day(1))
	f.role(json, u, projectrole.RoleOwner, day(1))
	f.role(json, other, projectrole.RoleMaintainer, day(2))
	walk := f.project("aardwalk", day(3))
	f.role(walk, u, projectrole.RoleMaintainer, day(4))
	secret := f.project("secret", day(5))
	f.role(secret, other, projectrole.RoleOwner, day(5))
	f.release(secret, "9.9", day(6))

	token, err := st.Ent.APIToken.Create().SetUserID(u.ID).SetName("ci upload").SetPrefix("rdt_test").
		SetTokenHash([]byte("hash-" + f.tag)).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r1 := f.release(json, "1.0", day(10))
	tar1 := f.file(r1, "tinyjson-1.0.tar.gz", u, day(10), "192.0.2.10", token)
	whl1 := f.file(r1, "tinyjson-1.0-py3-none-any.whl", u, day(10).Add(time.Minute), "192.0.2.10", token)
	r2 := f.release(json, "1.1", day(20))
	tar2 := f.file(r2, "tinyjson-1.1.tar.gz", other, day(20), "198.51.100.7", nil)

	rows, err := account.ListProjects(ctx, st.Ent, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d projects, want 2 (not another user's): %+v", len(rows), rows)
	}
	if rows[0].Name != walk.Name || rows[1].Name != json.Name {
		t.Errorf("order %q, %q; want by name", rows[0].Name, rows[1].Name)
	}
	if names, err := account.ProjectNames(ctx, st.Ent, u.ID); err != nil || !slices.Equal(names, []string{walk.Name, json.Name}) {
		t.Errorf("ProjectNames %q (%v), want ListProjects' names %q", names, err, []string{walk.Name, json.Name})
	}
	if r := rows[0]; r.Role != "maintainer" || !r.Since.Equal(day(4)) || r.Releases != 0 || !r.LastUpload.IsZero() {
		t.Errorf("aardwalk row %+v", r)
	}
	if r := rows[1]; r.Role != "owner" || !r.Since.Equal(day(1)) || r.Releases != 2 || !r.LastUpload.Equal(day(20)) || r.Description != "About Tiny.JSON" {
		t.Errorf("tinyjson row %+v", r)
	}

	// The name is compared normalized, as the index does.
	p, err := account.ProjectDetail(ctx, st.Ent, "tiny_json-"+f.tag, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != json.Name || p.Role != "owner" || !p.Since.Equal(day(1)) || p.RepositoryURL == "" {
		t.Errorf("detail %+v", p)
	}
	if len(p.Members) != 2 || p.Members[0].Username != u.Username || p.Members[1].Role != "maintainer" {
		t.Errorf("members %+v", p.Members)
	}
	if len(p.Releases) != 2 || p.Releases[0].Version != "1.1" || p.Releases[1].Version != "1.0" {
		t.Fatalf("releases %+v, want 1.1 then 1.0", p.Releases)
	}
	if files := p.Releases[1].Files; len(files) != 2 || files[0].Filename != whl1 || files[1].Filename != tar1 {
		t.Errorf("files of 1.0 %+v, want by name", files)
	}
	var got []string
	for _, up := range p.Uploads {
		got = append(got, up.Filename)
	}
	if want := []string{tar2, whl1, tar1}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("uploads %v, want newest first %v", got, want)
	}
	if up := p.Uploads[0]; up.Uploader != other.Username || up.IP != "198.51.100.7" || up.Token != "" || up.Version != "1.1" {
		t.Errorf("upload by the maintainer %+v", up)
	}
	if up := p.Uploads[2]; up.Uploader != u.Username || up.Token != "ci upload" || up.Size != 18_400 || up.PackageType != "sdist" {
		t.Errorf("upload with a token %+v", up)
	}

	for _, name := range []string{secret.Name, "no-such-project-" + f.tag} {
		if _, err := account.ProjectDetail(ctx, st.Ent, name, u.ID); !errors.Is(err, account.ErrNotFound) {
			t.Errorf("ProjectDetail(%q) error %v, want ErrNotFound", name, err)
		}
	}
}

func TestNormalizeProjectName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"TinyJSON":    "tinyjson",
		"tiny_json":   "tiny-json",
		"Tiny.-_JSON": "tiny-json",
		" retry-kit ": "retry-kit",
		"a__b..c":     "a-b-c",
	} {
		if got := account.NormalizeProjectName(in); got != want {
			t.Errorf("NormalizeProjectName(%q) = %q, want %q", in, got, want)
		}
	}
}
