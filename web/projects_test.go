package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/projectrole"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// projectSeed is a project with a role, a release and uploaded files, the
// way the demo seed builds them; names are unique to the test.
type projectSeed struct {
	project *ent.Project
	files   []string
}

func seedProject(t *testing.T, owner *ent.User, uploaders []*ent.User, ips []string) projectSeed {
	t.Helper()
	ctx := context.Background()
	db := testdb.Store(t).Ent
	name := fmt.Sprintf("Web.Proj_%d", time.Now().UnixNano())
	p, err := db.Project.Create().SetName(name).SetNameNormalized(account.NormalizeProjectName(name)).
		SetDescription("A project for " + owner.Username).SetCreatedAt(time.Date(2022, 1, 2, 3, 4, 0, 0, time.UTC)).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.ProjectRole.Create().SetProjectID(p.ID).SetUserID(owner.ID).SetRole(projectrole.RoleOwner).
		SetCreatedAt(time.Date(2022, 1, 2, 3, 4, 0, 0, time.UTC)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	rel, err := db.Release.Create().SetProjectID(p.ID).SetVersion("2.0.1").Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := projectSeed{project: p}
	for i, up := range uploaders {
		file := fmt.Sprintf("%s-2.0.1-%d.tar.gz", strings.ToLower(name), i)
		if err := db.ReleaseFile.Create().SetReleaseID(rel.ID).SetFilename(file).SetSize(27_600).
			SetSha256("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855").SetPackageType("sdist").
			SetUploadedAt(time.Date(2024, 5, 6, 7, 8+i, 0, 0, time.UTC)).SetUploaderID(up.ID).SetIP(ips[i]).
			SetStorageKey("blobs/" + file).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		s.files = append(s.files, file)
	}
	return s
}

func TestProjectsListAndDetail(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	u := newSecUser(t, b, secOpts{totp: true})
	other := newSecUser(t, b, secOpts{totp: true})
	mine := seedProject(t, u.User, []*ent.User{u.User, other.User}, []string{"192.0.2.71", "198.51.100.72"})
	theirs := seedProject(t, other.User, []*ent.User{other.User}, []string{"192.0.2.99"})

	r := u.c.get("/projects")
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	wantLayout(t, d)
	rows := rowsOf(d, "project")
	if len(rows) != 1 {
		t.Fatalf("%d projects listed, want 1 (not another user's)", len(rows))
	}
	got := text(rows[0])
	for _, want := range []string{mine.project.Name, "owner", "2 Jan 2022", "1", "6 May 2024, 07:09 UTC"} {
		if !strings.Contains(got, want) {
			t.Errorf("project row %q lacks %q", got, want)
		}
	}
	link := mustAttr(t, all(rows[0], isTag("a"))[0], "href")
	if link != "/projects/"+url.PathEscape(mine.project.Name) {
		t.Errorf("project link %q", link)
	}

	r = u.c.get(link)
	wantStatus(t, r, http.StatusOK)
	d = parse(t, r.body)
	if got := text(d.testID("project-name")); got != mine.project.Name {
		t.Errorf("project page heading %q", got)
	}
	if got := text(d.testID("project-role")); !strings.Contains(got, "owner since 2 Jan 2022") {
		t.Errorf("role %q", got)
	}
	if n := len(rowsOf(d, "release")); n != 1 {
		t.Errorf("%d releases, want 1", n)
	}
	if n := len(rowsOf(d, "release-file")); n != 2 {
		t.Errorf("%d release files, want 2", n)
	}
	uploads := rowsOf(d, "upload")
	if len(uploads) != 2 {
		t.Fatalf("%d uploads, want 2", len(uploads))
	}
	newest := text(uploads[0])
	for _, want := range []string{mine.files[1], other.Username, "198.51.100.72", "6 May 2024, 07:09 UTC"} {
		if !strings.Contains(newest, want) {
			t.Errorf("newest upload %q lacks %q", newest, want)
		}
	}
	if !strings.Contains(text(uploads[1]), u.Username) || !strings.Contains(text(uploads[1]), "192.0.2.71") {
		t.Errorf("older upload %q", text(uploads[1]))
	}
	// Also found by its normalized name.
	wantStatus(t, u.c.get("/projects/"+url.PathEscape(strings.ToLower(strings.ReplaceAll(mine.project.Name, ".", "-")))), http.StatusOK)

	for _, path := range []string{"/projects/" + url.PathEscape(theirs.project.Name), "/projects/no-such-project"} {
		r := u.c.get(path)
		wantStatus(t, r, http.StatusNotFound)
		if d := parse(t, r.body); strings.Contains(text(d.testID("main")), theirs.project.Name) {
			t.Errorf("%s reveals the project", path)
		}
	}
}

func TestProjectsEmptyList(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	u := newSecUser(t, b, secOpts{key: true})
	r := u.c.get("/projects")
	wantStatus(t, r, http.StatusOK)
	if !parse(t, r.body).hasTestID("projects-empty") {
		t.Error("no empty-list message")
	}
}
