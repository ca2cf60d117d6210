package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

func TestOrgPublicPage(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	owner := newSecUser(t, b, secOpts{totp: true})
	member := newSecUser(t, b, secOpts{totp: true})
	s := seedPublicProject(t, owner.User, member.User, "Org-owned.", "")

	// Any spelling of the name, signed out.
	r := newClient(t, b.app).get("/org/" + url.PathEscape(strings.ToUpper(s.org.Name)))
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	wantLayout(t, d)
	if got := text(d.testID("org-name")); got != s.org.Name {
		t.Errorf("heading %q", got)
	}
	members := rowsOf(d, "org-member")
	if len(members) != 2 {
		t.Fatalf("%d members, want 2", len(members))
	}
	for i, want := range [][]string{
		{owner.Username, "owner", "12 Apr 2021, 09:05 UTC"},
		{member.Username, "member", "3 May 2021, 14:20 UTC"},
	} {
		for _, w := range want {
			if !strings.Contains(text(members[i]), w) {
				t.Errorf("member row %d %q lacks %q", i, text(members[i]), w)
			}
		}
	}
	projects := rowsOf(d, "org-project")
	if len(projects) != 1 || !strings.Contains(text(projects[0]), "Org-owned.") {
		t.Fatalf("projects %d, want the one", len(projects))
	}
	if href := mustAttr(t, all(projects[0], isTag("a"))[0], "href"); href != "/project/"+url.PathEscape(s.project.Name) {
		t.Errorf("project link %q", href)
	}
	if strings.Contains(r.body, "@example.org") {
		t.Error("the organization page shows an address")
	}
	wantStatus(t, newClient(t, b.app).get("/org/no-such-org"), http.StatusNotFound)

	// Organization without projects.
	name := fmt.Sprintf("lonely-%d", time.Now().UnixNano())
	if err := testdb.Store(t).Ent.Organization.Create().SetName(name).SetNameNormalized(name).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	r = newClient(t, b.app).get("/org/" + name)
	wantStatus(t, r, http.StatusOK)
	if d := parse(t, r.body); !d.hasTestID("org-projects-empty") || len(rowsOf(d, "org-member")) != 0 {
		t.Errorf("empty organization page:\n%s", text(d.testID("main")))
	}
}

func TestProjectsPagesShowOrganizations(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	owner := newSecUser(t, b, secOpts{totp: true})
	member := newSecUser(t, b, secOpts{totp: true})
	s := seedPublicProject(t, owner.User, member.User, "Org-owned.", "")

	r := member.c.get("/projects")
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	orgs := rowsOf(d, "organization")
	if len(orgs) != 1 {
		t.Fatalf("%d organizations listed, want 1", len(orgs))
	}
	got := text(orgs[0])
	for _, want := range []string{s.org.Name, "member", "3 May 2021, 14:20 UTC"} {
		if !strings.Contains(got, want) {
			t.Errorf("organization row %q lacks %q", got, want)
		}
	}
	if n := strings.TrimSpace(text(all(orgs[0], hasAttr("data-testid", "org-project-count"))[0])); n != "1" {
		t.Errorf("organization row counts %q projects, want 1", n)
	}
	if href := mustAttr(t, all(orgs[0], isTag("a"))[0], "href"); href != "/org/"+url.PathEscape(s.org.Name) {
		t.Errorf("organization link %q", href)
	}
	if rows := rowsOf(d, "project"); len(rows) != 1 || !strings.Contains(text(rows[0]), "Organization: "+s.org.Name) {
		t.Errorf("project row does not name the organization")
	}

	// The management page names the organization and links the public page.
	r = member.c.get("/projects/" + url.PathEscape(s.project.Name))
	wantStatus(t, r, http.StatusOK)
	d = parse(t, r.body)
	if href := mustAttr(t, d.testID("project-org"), "href"); href != "/org/"+url.PathEscape(s.org.Name) {
		t.Errorf("organization link %q", href)
	}
	if href := mustAttr(t, d.testID("project-public-link"), "href"); href != "/project/"+url.PathEscape(s.project.Name) {
		t.Errorf("public page link %q", href)
	}

	// Someone without organizations sees no organizations table.
	loner := newSecUser(t, b, secOpts{totp: true})
	if d := parse(t, loner.c.get("/projects").body); d.hasTestID("organizations") {
		t.Error("organizations table for a user without any")
	}
}
