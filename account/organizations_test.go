package account_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/organizationmember"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

func (f *projectFactory) member(o *ent.Organization, u *ent.User, role organizationmember.Role, since time.Time) {
	f.t.Helper()
	if err := f.client.OrganizationMember.Create().SetOrganizationID(o.ID).SetUserID(u.ID).SetRole(role).
		SetCreatedAt(since).Exec(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

func (f *projectFactory) own(o *ent.Organization, p *ent.Project) {
	f.t.Helper()
	if err := f.client.Project.UpdateOne(p).SetOrganizationID(o.ID).Exec(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

func TestListOrganizations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.Store(t)
	f := newProjectFactory(t, st.Ent)
	u, other := makeUser(t, st.Ent), makeUser(t, st.Ent)
	day := func(d int) time.Time { return time.Date(2023, 7, d, 8, 0, 0, 0, time.UTC) }

	zeta := f.organization("Zeta", day(1))
	alpha := f.organization("alpha", day(2))
	theirs := f.organization("theirs", day(3))
	f.member(zeta, u, organizationmember.RoleOwner, day(4))
	f.member(alpha, u, organizationmember.RoleMember, day(5))
	f.member(alpha, other, organizationmember.RoleOwner, day(2))
	f.member(theirs, other, organizationmember.RoleOwner, day(3))
	f.own(zeta, f.project("z1", day(6)))
	f.own(zeta, f.project("z2", day(6)))
	f.own(theirs, f.project("t1", day(6)))

	rows, err := account.ListOrganizations(ctx, st.Ent, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []account.OrganizationRow{
		{Name: alpha.Name, Role: "member", Since: day(5), Projects: 0},
		{Name: zeta.Name, Role: "owner", Since: day(4), Projects: 2},
	}
	if len(rows) != len(want) {
		t.Fatalf("organizations %+v, want %+v", rows, want)
	}
	for i, r := range rows {
		if w := want[i]; r.Name != w.Name || r.Role != w.Role || !r.Since.Equal(w.Since) || r.Projects != w.Projects {
			t.Errorf("organization %d: %+v, want %+v", i, r, w)
		}
	}
	if rows, err := account.ListOrganizations(ctx, st.Ent, makeUser(t, st.Ent).ID); err != nil || len(rows) != 0 {
		t.Errorf("a user without organizations: %v, %v", rows, err)
	}

	// The projects list and page name the organization.
	p := f.project("orgproj", day(7))
	f.own(zeta, p)
	f.role(p, u, "maintainer", day(7))
	projects, err := account.ListProjects(ctx, st.Ent, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(projects) != 1 || projects[0].Organization != zeta.Name {
		t.Errorf("projects %+v, want %s of %s", projects, p.Name, zeta.Name)
	}
	detail, err := account.ProjectDetail(ctx, st.Ent, p.Name, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if detail.Organization != zeta.Name {
		t.Errorf("project detail organization %q, want %q", detail.Organization, zeta.Name)
	}
}

func TestPublicOrganization(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.Store(t)
	f := newProjectFactory(t, st.Ent)
	early, owner := makeUser(t, st.Ent), makeUser(t, st.Ent)
	day := func(d int) time.Time { return time.Date(2022, 2, d, 12, 0, 0, 0, time.UTC) }

	o := f.organization("Widgets", day(1))
	// The member joined first: owners are still listed first.
	f.member(o, early, organizationmember.RoleMember, day(2))
	f.member(o, owner, organizationmember.RoleOwner, day(3))
	b := f.project("b-lib", day(4))
	a := f.project("A-lib", day(5))
	f.own(o, b)
	f.own(o, a)
	f.project("unowned", day(6))

	got, err := account.PublicOrganization(ctx, st.Ent, strings.ToUpper(o.Name))
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != o.Name || !got.Created.Equal(day(1)) || got.MemberCount != 2 || got.ProjectCount != 2 {
		t.Errorf("organization %+v", got)
	}
	wantMembers := []account.OrganizationMemberInfo{
		{Username: owner.Username, Role: "owner", Since: day(3)},
		{Username: early.Username, Role: "member", Since: day(2)},
	}
	if len(got.Members) != len(wantMembers) {
		t.Fatalf("members %+v, want %+v", got.Members, wantMembers)
	}
	for i, m := range got.Members {
		if w := wantMembers[i]; m.Username != w.Username || m.Role != w.Role || !m.Since.Equal(w.Since) {
			t.Errorf("member %d: %+v, want %+v", i, m, w)
		}
	}
	wantProjects := fmt.Sprint([]account.OrganizationProjectInfo{{Name: a.Name, Description: "About A-lib"}, {Name: b.Name, Description: "About b-lib"}})
	if fmt.Sprint(got.Projects) != wantProjects {
		t.Errorf("projects\n got %v\nwant %v (by name)", got.Projects, wantProjects)
	}

	if _, err := account.PublicOrganization(ctx, st.Ent, "no-such-org-"+f.tag); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("unknown organization: error %v, want ErrNotFound", err)
	}
}
