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
	"github.com/recoverydesk/recoverydesk/ent/organizationmember"
	"github.com/recoverydesk/recoverydesk/ent/projectrole"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// publicSeed is an organization-owned project with an owner, a
// maintainer, two releases and files, some uploaded with an API token.
type publicSeed struct {
	org     *ent.Organization
	project *ent.Project
	token   *ent.APIToken
	// files by release, newest release first, each by name.
	files [][]string
}

func seedPublicProject(t *testing.T, owner, maintainer *ent.User, description, repo string) publicSeed {
	t.Helper()
	ctx := context.Background()
	db := testdb.Store(t).Ent
	tag := fmt.Sprintf("%d", time.Now().UnixNano())
	s := publicSeed{}
	var err error
	s.org, err = db.Organization.Create().SetName("Acme-" + tag).SetNameNormalized("acme-" + tag).
		SetCreatedAt(time.Date(2021, 4, 12, 9, 0, 0, 0, time.UTC)).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		u     *ent.User
		role  organizationmember.Role
		since time.Time
	}{
		{owner, organizationmember.RoleOwner, time.Date(2021, 4, 12, 9, 5, 0, 0, time.UTC)},
		{maintainer, organizationmember.RoleMember, time.Date(2021, 5, 3, 14, 20, 0, 0, time.UTC)},
	} {
		if err := db.OrganizationMember.Create().SetOrganizationID(s.org.ID).SetUserID(m.u.ID).SetRole(m.role).
			SetCreatedAt(m.since).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	name := "Pub.Proj_" + tag
	create := db.Project.Create().SetName(name).SetNameNormalized(account.NormalizeProjectName(name)).
		SetDescription(description).SetOrganizationID(s.org.ID).SetCreatedAt(time.Date(2021, 4, 20, 11, 30, 0, 0, time.UTC))
	if repo != "" {
		create.SetRepositoryURL(repo)
	}
	if s.project, err = create.Save(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		u    *ent.User
		role projectrole.Role
	}{{maintainer, projectrole.RoleMaintainer}, {owner, projectrole.RoleOwner}} {
		if err := db.ProjectRole.Create().SetProjectID(s.project.ID).SetUserID(r.u.ID).SetRole(r.role).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s.token, err = db.APIToken.Create().SetUserID(owner.ID).SetName("secret-ci-token-name").SetPrefix("rdt_" + tag[len(tag)-8:]).
		SetTokenHash([]byte("hash-" + tag)).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lower := strings.ToLower(strings.ReplaceAll(name, ".", "_"))
	for i, rel := range []struct {
		version string
		at      time.Time
		by      *ent.User
		token   *ent.APIToken
		files   []string
	}{
		{"1.0.0", time.Date(2022, 3, 1, 10, 0, 0, 0, time.UTC), owner, s.token, []string{"-1.0.0.tar.gz", "-1.0.0-py3-none-any.whl"}},
		{"1.1.0", time.Date(2023, 8, 9, 16, 45, 0, 0, time.UTC), maintainer, nil, []string{"-1.1.0.tar.gz"}},
	} {
		r, err := db.Release.Create().SetProjectID(s.project.ID).SetVersion(rel.version).SetCreatedAt(rel.at).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, suffix := range rel.files {
			file := lower + suffix
			typ, py := "sdist", "source"
			if strings.HasSuffix(file, ".whl") {
				typ, py = "bdist_wheel", "py3"
			}
			c := db.ReleaseFile.Create().SetReleaseID(r.ID).SetFilename(file).SetSize(27_600).
				SetSha256(fmt.Sprintf("%064d", i+1)).SetPackageType(typ).SetPythonVersion(py).
				SetUploadedAt(rel.at).SetUploaderID(rel.by.ID).SetIP("203.0.113.9").SetStorageKey("blobs/" + file)
			if rel.token != nil {
				c.SetAPITokenID(rel.token.ID)
			}
			if err := c.Exec(ctx); err != nil {
				t.Fatal(err)
			}
			names = append(names, file)
		}
		// Newest release first, files by name.
		if strings.HasSuffix(names[0], ".gz") && len(names) == 2 {
			names[0], names[1] = names[1], names[0]
		}
		s.files = append([][]string{names}, s.files...)
	}
	return s
}

func TestProjectPublicPage(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	owner := newSecUser(t, b, secOpts{totp: true})
	maintainer := newSecUser(t, b, secOpts{totp: true})
	s := seedPublicProject(t, owner.User, maintainer.User, "Fast things, done right.", "https://git.example.org/acme/pub")

	// Signed out, and signed in as anyone: the same public page.
	for _, c := range []*client{newClient(t, b.app), owner.c} {
		r := c.get("/project/" + url.PathEscape(s.project.Name))
		wantStatus(t, r, http.StatusOK)
		d := parse(t, r.body)
		wantLayout(t, d)
		if got := text(d.testID("project-name")); got != s.project.Name {
			t.Errorf("heading %q", got)
		}
		if got := text(d.testID("project-description")); got != "Fast things, done right." {
			t.Errorf("description %q", got)
		}
		if got := mustAttr(t, d.testID("project-org"), "href"); got != "/org/"+url.PathEscape(s.org.Name) || text(d.testID("project-org")) != s.org.Name {
			t.Errorf("organization link %q", got)
		}
		if a := all(d.testID("project-repository"), isTag("a")); len(a) != 1 || mustAttr(t, a[0], "href") != "https://git.example.org/acme/pub" {
			t.Errorf("repository link %v", a)
		}
		var maintainers []string
		for _, m := range rowsOf(d, "maintainer") {
			maintainers = append(maintainers, text(m))
		}
		want := []string{owner.Username + " (owner)", maintainer.Username + " (maintainer)"}
		if fmt.Sprint(maintainers) != fmt.Sprint(want) {
			t.Errorf("maintainers %q, want %q", maintainers, want)
		}

		releases := rowsOf(d, "release")
		if len(releases) != 2 {
			t.Fatalf("%d releases, want 2", len(releases))
		}
		if h := text(all(releases[0], isTag("h3"))[0]); !strings.HasSuffix(h, "1.1.0") {
			t.Errorf("first release %q, want the newest (1.1.0)", h)
		}
		for i, rel := range releases {
			rows := all(rel, hasAttr("data-testid", "release-file"))
			if len(rows) != len(s.files[i]) {
				t.Fatalf("release %d: %d files, want %d", i, len(rows), len(s.files[i]))
			}
			for j, row := range rows {
				got := text(row)
				if !strings.Contains(got, s.files[i][j]) || !strings.Contains(got, "27.6 kB") || !strings.Contains(got, fmt.Sprintf("%064d", 2-i)) {
					t.Errorf("release %d file %d: %q, want %s with size and digest", i, j, got, s.files[i][j])
				}
				viaToken := len(all(row, hasAttr("data-testid", "via-token"))) == 1
				if wantToken := i == 1; viaToken != wantToken {
					t.Errorf("release %d file %d: via token %v, want %v", i, j, viaToken, wantToken)
				}
			}
		}
		newest := text(rowsOf(d, "release-file")[0])
		for _, want := range []string{"sdist", "source", "9 Aug 2023, 16:45 UTC", maintainer.Username} {
			if !strings.Contains(newest, want) {
				t.Errorf("newest file %q lacks %q", newest, want)
			}
		}
		if older := text(rowsOf(d, "release-file")[1]); !strings.Contains(older, "bdist_wheel") || !strings.Contains(older, "py3") || !strings.Contains(older, owner.Username) {
			t.Errorf("wheel row %q", older)
		}
		// Nothing private: no address, no upload IP, nothing of the token.
		for _, secret := range []string{"@example.org", "203.0.113.9", s.token.Name, s.token.Prefix} {
			if strings.Contains(r.body, secret) {
				t.Errorf("the public page shows %q", secret)
			}
		}
	}

	// Found by its normalized name; unknown names are a 404.
	wantStatus(t, newClient(t, b.app).get("/project/"+url.PathEscape(account.NormalizeProjectName(s.project.Name))), http.StatusOK)
	for _, path := range []string{"/project/no-such-project", "/project/" + url.PathEscape("ünknown name")} {
		wantStatus(t, newClient(t, b.app).get(path), http.StatusNotFound)
	}
}

func TestProjectPublicPageHostileText(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	owner := newSecUser(t, b, secOpts{totp: true})
	maintainer := newSecUser(t, b, secOpts{totp: true})
	evil := `<script>alert("x")</script><img src=x onerror=alert(1)>`
	s := seedPublicProject(t, owner.User, maintainer.User, evil, `javascript:alert(document.cookie)`)

	r := newClient(t, b.app).get("/project/" + url.PathEscape(s.project.Name))
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	if got := text(d.testID("project-description")); got != evil {
		t.Errorf("description shown as %q, want the text as typed", got)
	}
	if strings.Contains(r.body, "<script>alert") || strings.Contains(r.body, "<img src=x") {
		t.Error("the description is not escaped")
	}
	// A repository URL that is not http(s) is text, never a link.
	repo := d.testID("project-repository")
	if a := all(repo, isTag("a")); len(a) != 0 {
		t.Errorf("non-http repository URL linked: %v", mustAttr(t, a[0], "href"))
	}
	if !strings.Contains(text(repo), "javascript:alert") {
		t.Errorf("repository shown as %q", text(repo))
	}
}

func TestProjectPublicPageNoReleases(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	ctx := context.Background()
	db := testdb.Store(t).Ent
	name := fmt.Sprintf("empty-%d", time.Now().UnixNano())
	if err := db.Project.Create().SetName(name).SetNameNormalized(name).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	r := newClient(t, b.app).get("/project/" + name)
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	if !d.hasTestID("releases-empty") || d.hasTestID("project-org") || d.hasTestID("project-repository") || d.hasTestID("releases-limited") {
		t.Errorf("project without releases, organization or repository:\n%s", text(d.testID("main")))
	}
}
