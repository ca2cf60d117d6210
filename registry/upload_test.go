package registry_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/project"
	"github.com/recoverydesk/recoverydesk/ent/projectrole"
	"github.com/recoverydesk/recoverydesk/ent/release"
	"github.com/recoverydesk/recoverydesk/ent/releasefile"
	"github.com/recoverydesk/recoverydesk/registry"
)

func TestFirstUploadCreatesProjectOwnedByUploader(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t, 0)
	u := fx.newUser(t)
	tok := fx.auth(t, fx.newToken(t, u, tokenOpts{}))
	name := unique("Fresh.Pkg")

	req := sdistRequest(t, tok, name, "1.0")
	data := sdist(t, name, "1.0")
	res, err := fx.svc.Upload(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !res.ProjectCreated || res.Project.Name != name || res.Project.NameNormalized != account.NormalizeProjectName(name) {
		t.Fatalf("project %+v, created %v", res.Project, res.ProjectCreated)
	}
	if d := res.Project.Description; d == nil || *d != "A test package" {
		t.Errorf("description %v, want the summary", d)
	}
	role, err := fx.st.Ent.ProjectRole.Query().Where(projectrole.ProjectID(res.Project.ID)).Only(ctx)
	if err != nil {
		t.Fatalf("roles of the new project: %v", err)
	}
	if role.UserID != u.ID || role.Role != projectrole.RoleOwner {
		t.Errorf("role %+v, want the uploader as owner", role)
	}

	f, err := fx.st.Ent.ReleaseFile.Query().Where(releasefile.Filename(req.Filename)).WithRelease().Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if f.Sha256 != hex.EncodeToString(sum[:]) || f.Md5 == nil || *f.Md5 != req.MD5Digest || f.Blake2256 == nil || len(*f.Blake2256) != 64 {
		t.Errorf("digests sha256 %s md5 %v blake2 %v", f.Sha256, f.Md5, f.Blake2256)
	}
	if f.Size != int64(len(data)) || f.PackageType != "sdist" || f.PythonVersion == nil || *f.PythonVersion != "source" {
		t.Errorf("size %d type %s python %v", f.Size, f.PackageType, f.PythonVersion)
	}
	if f.UploaderID != u.ID || f.APITokenID == nil || *f.APITokenID != tok.ID || f.IP != "192.0.2.7" {
		t.Errorf("uploader %d token %v ip %q", f.UploaderID, f.APITokenID, f.IP)
	}
	if time.Since(f.UploadedAt) > time.Minute || f.Edges.Release.Version != "1.0" || f.Edges.Release.ProjectID != res.Project.ID {
		t.Errorf("uploaded at %s, release %+v", f.UploadedAt, f.Edges.Release)
	}
	path, err := fx.svc.Files().Path(f.StorageKey)
	if err != nil {
		t.Fatal(err)
	}
	if stored, err := os.ReadFile(path); err != nil || !bytes.Equal(stored, data) {
		t.Errorf("stored file %s: %v, same bytes %v", path, err, bytes.Equal(stored, data))
	}

	// A wheel of the same version joins the release; the project stays.
	res2, err := fx.svc.Upload(ctx, wheelRequest(t, tok, name, "1.0"))
	if err != nil {
		t.Fatal(err)
	}
	if res2.ProjectCreated || res2.Project.ID != res.Project.ID || res2.Release.ID != res.Release.ID {
		t.Errorf("wheel: project %d (created %v), release %d; want project %d, release %d",
			res2.Project.ID, res2.ProjectCreated, res2.Release.ID, res.Project.ID, res.Release.ID)
	}
	if *res2.File.PythonVersion != "py3" || res2.File.PackageType != "bdist_wheel" {
		t.Errorf("wheel row: %+v", res2.File)
	}
}

func TestTokenScope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t, 0)
	alice, bob := fx.newUser(t), fx.newUser(t)
	mine := fx.newProject(t, alice, projectrole.RoleOwner)
	also := fx.newProject(t, alice, projectrole.RoleMaintainer)
	bobs := fx.newProject(t, bob, projectrole.RoleOwner)
	scoped := fx.auth(t, fx.newToken(t, alice, tokenOpts{project: mine}))
	wide := fx.auth(t, fx.newToken(t, alice, tokenOpts{}))

	t.Run("a project token uploads to its project", func(t *testing.T) {
		if _, err := fx.svc.Upload(ctx, sdistRequest(t, scoped, mine.Name, "1.0")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a project token is refused for another project of the account", func(t *testing.T) {
		_, err := fx.svc.Upload(ctx, sdistRequest(t, scoped, also.Name, "1.0"))
		refused(t, err, registry.RefusedForbidden, "scoped to the project "+mine.Name+"; it cannot upload to "+also.Name)
	})
	t.Run("a project token does not create projects", func(t *testing.T) {
		name := unique("newname")
		_, err := fx.svc.Upload(ctx, sdistRequest(t, scoped, name, "1.0"))
		refused(t, err, registry.RefusedForbidden, "scoped to the project "+mine.Name)
		if n, _ := fx.st.Ent.Project.Query().Where(project.NameNormalized(account.NormalizeProjectName(name))).Count(ctx); n != 0 {
			t.Errorf("%d projects %s created", n, name)
		}
	})
	t.Run("an account token uploads where the account maintains", func(t *testing.T) {
		if _, err := fx.svc.Upload(ctx, wheelRequest(t, wide, also.Name, "2.0")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("an account token is refused for someone else's project", func(t *testing.T) {
		req := sdistRequest(t, wide, bobs.Name, "9.9")
		_, err := fx.svc.Upload(ctx, req)
		refused(t, err, registry.RefusedForbidden, "The user "+alice.Username+" isn't allowed to upload to the project "+bobs.Name)
		if n, _ := fx.st.Ent.ReleaseFile.Query().Where(releasefile.Filename(req.Filename)).Count(ctx); n != 0 {
			t.Error("the refused file was recorded")
		}
		if n, _ := fx.st.Ent.Release.Query().Where(release.ProjectID(bobs.ID)).Count(ctx); n != 0 {
			t.Error("a release was created in the other account's project")
		}
	})
	t.Run("the project's name is compared normalised", func(t *testing.T) {
		upper := strings.ToUpper(mine.Name)
		if _, err := fx.svc.Upload(ctx, sdistRequest(t, scoped, upper, "1.1")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a project token stops working with its user's role", func(t *testing.T) {
		p := fx.newProject(t, alice, projectrole.RoleMaintainer)
		tok := fx.auth(t, fx.newToken(t, alice, tokenOpts{project: p}))
		if _, err := fx.st.Ent.ProjectRole.Delete().Where(projectrole.ProjectID(p.ID), projectrole.UserID(alice.ID)).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		_, err := fx.svc.Upload(ctx, sdistRequest(t, tok, p.Name, "1.0"))
		refused(t, err, registry.RefusedForbidden, "isn't allowed to upload")
	})
}

func TestRevokedAndExpiredTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t, 0)
	u := fx.newUser(t)
	past := time.Now().Add(-time.Minute)
	for name, tc := range map[string]struct {
		opts tokenOpts
		want error
	}{
		"revoked": {tokenOpts{revoked: &past}, account.ErrAPITokenRevoked},
		"expired": {tokenOpts{expires: &past}, account.ErrAPITokenExpired},
	} {
		_, err := fx.svc.Authenticate(ctx, fx.newToken(t, u, tc.opts))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s token: %v, want %v", name, err, tc.want)
		}
	}
	if _, err := fx.svc.Authenticate(ctx, account.APITokenPrefix+strings.Repeat("a", 52)); !errors.Is(err, account.ErrAPITokenInvalid) {
		t.Errorf("unknown token: %v", err)
	}
	future := time.Now().Add(time.Hour)
	tok, err := fx.svc.Authenticate(ctx, fx.newToken(t, u, tokenOpts{expires: &future}))
	if err != nil || tok.LastUsedAt == nil {
		t.Fatalf("live token: %v (last used %v)", err, tok)
	}
}

func TestFileNameUsedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t, 0)
	u := fx.newUser(t)
	tok := fx.auth(t, fx.newToken(t, u, tokenOpts{}))
	name := unique("once")
	first := sdistRequest(t, tok, name, "1.0")
	if _, err := fx.svc.Upload(ctx, first); err != nil {
		t.Fatal(err)
	}
	// The same name again, even with other bytes, is refused.
	again := sdistRequest(t, tok, name, "1.0")
	again.Summary = "changed"
	again.Content = bytes.NewReader(append(sdist(t, name, "1.0"), 0))
	again.SHA256Digest, again.MD5Digest = "", ""
	_, err := fx.svc.Upload(ctx, again)
	refused(t, err, registry.RefusedExists, "File already exists: "+first.Filename)
	if n, _ := fx.st.Ent.ReleaseFile.Query().Where(releasefile.Filename(first.Filename)).Count(ctx); n != 1 {
		t.Errorf("%d rows for %s", n, first.Filename)
	}
}

func TestDigestsMustMatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t, 0)
	u := fx.newUser(t)
	tok := fx.auth(t, fx.newToken(t, u, tokenOpts{}))
	wrong := strings.Repeat("0", 64)
	for _, tc := range []struct {
		field  string
		mangle func(*registry.UploadRequest)
	}{
		{"sha256_digest", func(r *registry.UploadRequest) { r.SHA256Digest = wrong }},
		{"md5_digest", func(r *registry.UploadRequest) { r.MD5Digest = wrong[:32] }},
		{"blake2_256_digest", func(r *registry.UploadRequest) { r.Blake2256Digest = wrong }},
	} {
		name := unique("digest")
		req := sdistRequest(t, tok, name, "1.0")
		tc.mangle(&req)
		_, err := fx.svc.Upload(ctx, req)
		refused(t, err, registry.RefusedInvalid, "The "+tc.field+" sent")
		// Nothing is recorded, not even the new project.
		if n, _ := fx.st.Ent.Project.Query().Where(project.NameNormalized(account.NormalizeProjectName(name))).Count(ctx); n != 0 {
			t.Errorf("%s mismatch: the project was created", tc.field)
		}
		// Nor are the bytes kept.
		if n := fx.storedFiles(t); n != 0 {
			t.Errorf("%s mismatch: %d files left in the store", tc.field, n)
		}
	}
	// Digests in upper case are the same digests.
	req := sdistRequest(t, tok, unique("upper"), "1.0")
	req.SHA256Digest = strings.ToUpper(req.SHA256Digest)
	if _, err := fx.svc.Upload(ctx, req); err != nil {
		t.Errorf("upper-case digest: %v", err)
	}
	// Malformed digests are refused before reading.
	req = sdistRequest(t, tok, unique("short"), "1.0")
	req.SHA256Digest = "abc"
	_, err := fx.svc.Upload(ctx, req)
	refused(t, err, registry.RefusedInvalid, "sha256_digest: it must be 64 hexadecimal characters")
}

// failingReader fails the test when read: a declared size over the limit
// must be refused before the body is touched.
type failingReader struct{ t *testing.T }

func (f failingReader) Read([]byte) (int, error) {
	f.t.Error("the content was read")
	return 0, errors.New("read")
}

func TestSizeLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t, 2<<10)
	u := fx.newUser(t)
	tok := fx.auth(t, fx.newToken(t, u, tokenOpts{}))
	if fx.svc.MaxSize() != 2<<10 {
		t.Fatalf("MaxSize %d", fx.svc.MaxSize())
	}

	// Declared too large: refused unread.
	req := sdistRequest(t, tok, unique("big"), "1.0")
	req.Content, req.Size = failingReader{t}, 3<<10
	_, err := fx.svc.Upload(ctx, req)
	refused(t, err, registry.RefusedTooLarge, "File too large: the limit for one file is 2 KiB.")

	// Undeclared and too large: refused while storing; no file is left.
	big := append(sdist(t, "x", "1"), bytes.Repeat([]byte{7}, 2<<10)...)
	req = request(tok, unique("big"), "1.0", registry.FileTypeSdist, "", "source", big)
	req.Filename = req.Name + "-1.0.tar.gz"
	req.Size = -1
	_, err = fx.svc.Upload(ctx, req)
	refused(t, err, registry.RefusedTooLarge, "2 KiB")
	if n, _ := fx.st.Ent.ReleaseFile.Query().Where(releasefile.Filename(req.Filename)).Count(ctx); n != 0 {
		t.Error("the oversized file was recorded")
	}
	if n := fx.storedFiles(t); n != 0 {
		t.Errorf("%d files left in the store by refused uploads", n)
	}

	// Exactly at the limit is accepted.
	exact := append(sdist(t, "x", "1"), 0)
	exact = append(exact, bytes.Repeat([]byte{1}, 2<<10-len(exact))...)
	name := unique("exact")
	req = request(tok, name, "1.0", registry.FileTypeSdist, name+"-1.0.tar.gz", "source", exact)
	if _, err := fx.svc.Upload(ctx, req); err != nil {
		t.Errorf("a file of exactly the limit: %v", err)
	}
}

func TestUploadFieldsChecked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t, 0)
	u := fx.newUser(t)
	tok := fx.auth(t, fx.newToken(t, u, tokenOpts{}))
	tests := []struct {
		name   string
		mangle func(*registry.UploadRequest)
		want   string
	}{
		{"action", func(r *registry.UploadRequest) { r.Action = "submit" }, `Unsupported :action "submit"`},
		{"no action", func(r *registry.UploadRequest) { r.Action = "" }, "Missing the required field :action"},
		{"protocol", func(r *registry.UploadRequest) { r.ProtocolVersion = "2" }, `Unknown protocol_version "2"`},
		{"no name", func(r *registry.UploadRequest) { r.Name = "" }, "Missing the required field name"},
		{"bad name", func(r *registry.UploadRequest) { r.Name = "-bad-" }, `Invalid project name "-bad-"`},
		{"no version", func(r *registry.UploadRequest) { r.Version = "" }, "Missing the required field version"},
		{"bad version", func(r *registry.UploadRequest) { r.Version = "one" }, `Invalid version "one"`},
		{"no filetype", func(r *registry.UploadRequest) { r.FileType = "" }, "Missing the required field filetype"},
		{"no content", func(r *registry.UploadRequest) { r.Content = nil }, "Missing the required field content"},
		{"other project's file", func(r *registry.UploadRequest) { r.Filename = "other-1.0.tar.gz" }, "does not match the project"},
		{"other version's file", func(r *registry.UploadRequest) { r.Version = "1.1" }, "does not match the version 1.1"},
		{"not gzip", func(r *registry.UploadRequest) {
			r.Content = strings.NewReader("plain text")
			r.SHA256Digest, r.MD5Digest = "", ""
		}, "is not gzip-compressed"},
		{"empty", func(r *registry.UploadRequest) {
			r.Content = strings.NewReader("")
			r.SHA256Digest, r.MD5Digest = "", ""
		}, "is empty"},
		{"two-line summary", func(r *registry.UploadRequest) { r.Summary = "a\nb" }, "Invalid summary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := sdistRequest(t, tok, unique("fields"), "1.0")
			tt.mangle(&req)
			_, err := fx.svc.Upload(ctx, req)
			refused(t, err, registry.RefusedInvalid, tt.want)
		})
	}
}

func TestConcurrentFirstUploads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newFixture(t, 0)

	t.Run("one uploader, many versions at once", func(t *testing.T) {
		u := fx.newUser(t)
		tok := fx.auth(t, fx.newToken(t, u, tokenOpts{}))
		name := unique("race")
		versions := []string{"1.0", "1.1", "1.2", "1.3", "2.0", "2.1"}
		errs := make(chan error, len(versions))
		start := make(chan struct{})
		for _, v := range versions {
			req := sdistRequest(t, tok, name, v)
			go func() {
				<-start
				_, err := fx.svc.Upload(ctx, req)
				errs <- err
			}()
		}
		close(start)
		for range versions {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		p, err := fx.st.Ent.Project.Query().Where(project.NameNormalized(account.NormalizeProjectName(name))).
			WithRoles().WithReleases().Only(ctx)
		if err != nil {
			t.Fatalf("want exactly one project %s: %v", name, err)
		}
		if len(p.Edges.Roles) != 1 || p.Edges.Roles[0].UserID != u.ID || len(p.Edges.Releases) != len(versions) {
			t.Errorf("%d roles, %d releases", len(p.Edges.Roles), len(p.Edges.Releases))
		}
	})

	t.Run("two accounts race for one new name", func(t *testing.T) {
		name := unique("contest")
		type result struct {
			user *ent.User
			err  error
		}
		results := make(chan result, 2)
		start := make(chan struct{})
		for range 2 {
			u := fx.newUser(t)
			req := sdistRequest(t, fx.auth(t, fx.newToken(t, u, tokenOpts{})), name, "1.0")
			go func() {
				<-start
				_, err := fx.svc.Upload(ctx, req)
				results <- result{u, err}
			}()
		}
		close(start)
		var winner *ent.User
		for range 2 {
			r := <-results
			if r.err == nil {
				if winner != nil {
					t.Fatal("both uploads of the same file name succeeded")
				}
				winner = r.user
				continue
			}
			// The loser finds the project taken, or, when both passed
			// the early checks, the file name.
			if rf, ok := registry.AsRefusal(r.err); !ok || (rf.Kind != registry.RefusedForbidden && rf.Kind != registry.RefusedExists) {
				t.Errorf("loser: %v", r.err)
			}
		}
		if winner == nil {
			t.Fatal("neither upload succeeded")
		}
		roles, err := fx.st.Ent.ProjectRole.Query().
			Where(projectrole.HasProjectWith(project.NameNormalized(account.NormalizeProjectName(name)))).All(ctx)
		if err != nil || len(roles) != 1 || roles[0].UserID != winner.ID {
			t.Errorf("roles %v (%v), want the winner alone", roles, err)
		}
	})
}
