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
	"github.com/recoverydesk/recoverydesk/ent/projectrole"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// organization creates an organization named name plus the factory's tag.
func (f *projectFactory) organization(name string, created time.Time) *ent.Organization {
	f.t.Helper()
	full := name + "-" + f.tag
	o, err := f.client.Organization.Create().SetName(full).SetNameNormalized(account.NormalizeOrganizationName(full)).
		SetCreatedAt(created).Save(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return o
}

func TestPublicProjectPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.Store(t)
	f := newProjectFactory(t, st.Ent)
	owner, maintainer := makeUser(t, st.Ent), makeUser(t, st.Ent)
	day := func(d int) time.Time { return time.Date(2024, 4, d, 9, 30, 0, 0, time.UTC) }

	org := f.organization("Acme", day(1))
	p := f.project("Pub.Lib", day(1))
	if err := st.Ent.Project.UpdateOne(p).SetOrganizationID(org.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	// The maintainer's role is older: owners still come first.
	f.role(p, maintainer, projectrole.RoleMaintainer, day(1))
	f.role(p, owner, projectrole.RoleOwner, day(2))
	token, err := st.Ent.APIToken.Create().SetUserID(owner.ID).SetName("release bot").SetPrefix("rdt_pub").
		SetTokenHash([]byte("hash-pub-" + f.tag)).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r1 := f.release(p, "1.0", day(3))
	tar1 := f.file(r1, "publib-1.0.tar.gz", owner, day(3), "192.0.2.1", token)
	whl1 := f.file(r1, "publib-1.0-py3-none-any.whl", owner, day(3), "192.0.2.1", token)
	r2 := f.release(p, "1.1", day(9))
	tar2 := f.file(r2, "publib-1.1.tar.gz", maintainer, day(9), "198.51.100.2", nil)

	got, err := account.PublicProjectPage(ctx, st.Ent, "pub-lib_"+f.tag)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != p.Name || got.Description != "About Pub.Lib" || got.Organization != org.Name ||
		!strings.HasPrefix(got.RepositoryURL, "https://git.example.org/") || !got.Created.Equal(day(1)) {
		t.Errorf("project %+v", got)
	}
	if want := fmt.Sprint([]account.PublicMaintainer{{owner.Username, "owner"}, {maintainer.Username, "maintainer"}}); fmt.Sprint(got.Maintainers) != want {
		t.Errorf("maintainers %v, want %v", got.Maintainers, want)
	}
	if got.ReleaseCount != 2 || len(got.Releases) != 2 || got.Releases[0].Version != "1.1" || got.Releases[1].Version != "1.0" {
		t.Fatalf("releases %+v (count %d), want 1.1 then 1.0", got.Releases, got.ReleaseCount)
	}
	newest := got.Releases[0].Files
	if len(newest) != 1 || newest[0].Filename != tar2 || newest[0].Uploader != maintainer.Username || newest[0].ViaToken {
		t.Errorf("files of 1.1 %+v, want %s by %s without a token", newest, tar2, maintainer.Username)
	}
	older := got.Releases[1].Files
	if len(older) != 2 || older[0].Filename != whl1 || older[1].Filename != tar1 {
		t.Fatalf("files of 1.0 %+v, want by name", older)
	}
	for _, fi := range older {
		if !fi.ViaToken || fi.Uploader != owner.Username || fi.Size != 18_400 || fi.PackageType != "sdist" ||
			fi.SHA256 == "" || !fi.UploadedAt.Equal(day(3)) {
			t.Errorf("file %+v, want the owner's token upload", fi)
		}
	}

	for _, name := range []string{"no-such-project-" + f.tag, ""} {
		if _, err := account.PublicProjectPage(ctx, st.Ent, name); !errors.Is(err, account.ErrNotFound) {
			t.Errorf("PublicProjectPage(%q) error %v, want ErrNotFound", name, err)
		}
	}
}

func TestPublicProjectPageBoundsReleases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.Store(t)
	f := newProjectFactory(t, st.Ent)
	p := f.project("busy", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	total := account.PublicReleaseLimit + 3
	creates := make([]*ent.ReleaseCreate, total)
	for i := range creates {
		creates[i] = st.Ent.Release.Create().SetProjectID(p.ID).SetVersion(fmt.Sprintf("0.%d", i)).
			SetCreatedAt(time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i))
	}
	if _, err := st.Ent.Release.CreateBulk(creates...).Save(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := account.PublicProjectPage(ctx, st.Ent, p.Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Releases) != account.PublicReleaseLimit || got.ReleaseCount != total {
		t.Fatalf("%d releases shown of %d, want %d of %d", len(got.Releases), got.ReleaseCount, account.PublicReleaseLimit, total)
	}
	if first, last := got.Releases[0].Version, got.Releases[len(got.Releases)-1].Version; first != fmt.Sprintf("0.%d", total-1) || last != "0.3" {
		t.Errorf("shown %s down to %s, want the newest: 0.%d down to 0.3", first, last, total-1)
	}
}
