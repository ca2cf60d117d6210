package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent/projectrole"
	"github.com/recoverydesk/recoverydesk/ent/releasefile"
	"github.com/recoverydesk/recoverydesk/internal/config"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/registry"
	"github.com/recoverydesk/recoverydesk/web"
)

// uploadApp is the app with the upload endpoint, in-process.
type uploadApp struct {
	app *fiber.App
	reg *registry.Service
}

// newUploadApp boots the app with a registry storing files in a directory
// of the test's own, at most maxSize bytes each (0: the default).
func newUploadApp(t *testing.T, maxSize int64) *uploadApp {
	t.Helper()
	st := testdb.Store(t)
	base, _ := url.Parse(testBase)
	cfg := config.Config{
		SiteName:       testSite,
		BaseURL:        base,
		SecretKey:      bytes.Repeat([]byte("u"), 32),
		SupportAddress: testSupport,
		Mode:           config.ModeServe,
		// app.Test's connections come from 0.0.0.0: as the trusted proxy
		// its X-Forwarded-For names the client.
		TrustedProxies: []string{"0.0.0.0"},
	}
	reg, err := registry.NewService(registry.Options{Store: st, Dir: t.TempDir(), MaxSize: maxSize})
	if err != nil {
		t.Fatal(err)
	}
	app, err := web.New(web.Deps{
		Config:   cfg,
		Logger:   discardLogger(),
		Sessions: account.NewSessions(st.Ent, account.DefaultSessionPolicy, nil),
		Account:  newAccountServices(t, cfg),
		Registry: reg,
		Ready:    func(context.Context) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return &uploadApp{app: app, reg: reg}
}

// uploadResponse is an answer of the upload endpoint.
type uploadResponse struct {
	status int
	// reason is the status line's phrase: what twine prints.
	reason string
	body   string
	header http.Header
}

// post sends req from client address ip, with Basic credentials unless
// user and password are both empty.
func (a *uploadApp) post(t *testing.T, req *http.Request, user, password, ip string) uploadResponse {
	t.Helper()
	if user != "" || password != "" {
		req.SetBasicAuth(user, password)
	}
	req.Header.Set("X-Forwarded-For", ip)
	res, err := a.app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return uploadResponse{
		status: res.StatusCode,
		reason: strings.TrimSpace(strings.TrimPrefix(res.Status, fmt.Sprint(res.StatusCode))),
		body:   string(body),
		header: res.Header,
	}
}

// want checks status and that the reason phrase and the body both say
// message.
func (r uploadResponse) want(t *testing.T, status int, message string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d (%s), want %d; body: %s", r.status, r.reason, status, r.body)
	}
	if !strings.Contains(r.reason, message) || !strings.Contains(r.body, message) {
		t.Errorf("reason %q / body %q do not say %q", r.reason, r.body, message)
	}
	if len(r.header.Values("Set-Cookie")) != 0 {
		t.Errorf("the upload endpoint set cookies: %v", r.header.Values("Set-Cookie"))
	}
}

// uploadIP is a fresh client address for one test.
func uploadIP() string {
	n := clientSeq.Add(1)
	return fmt.Sprintf("172.16.%d.%d", n/256%256, n%256)
}

func TestUploadRefusesPasswords(t *testing.T) {
	t.Parallel()
	a := newUploadApp(t, 0)
	u := newUploadUser(t)
	token, _ := newAPIToken(t, u.ID, apiTokenOpts{})
	form := sdistUpload(t, "pwcheck", "1.0")

	t.Run("no credentials", func(t *testing.T) {
		r := a.post(t, form.request(t, testBase), "", "", uploadIP())
		r.want(t, http.StatusUnauthorized, "Authentication required")
		if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Basic ") {
			t.Errorf("WWW-Authenticate %q", got)
		}
	})
	for _, tc := range []struct{ name, user, password string }{
		{"username and password", u.Username, "correct horse battery staple"},
		{"__token__ and a password", "__token__", "hunter2hunter2"},
		{"a token under a username", u.Username, token},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.post(t, form.request(t, testBase), tc.user, tc.password, uploadIP())
			r.want(t, http.StatusForbidden, "Passwords cannot be used to upload: an API token must be used.")
			if !strings.Contains(r.body, "/account/tokens") {
				t.Errorf("the refusal does not say where tokens are made: %s", r.body)
			}
		})
	}
}

func TestUploadRefusesDeadTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newUploadApp(t, 0)
	u := newUploadUser(t)
	past := time.Now().Add(-time.Hour)
	revoked, _ := newAPIToken(t, u.ID, apiTokenOpts{revoked: &past})
	expired, _ := newAPIToken(t, u.ID, apiTokenOpts{expires: &past})
	unknown := account.APITokenPrefix + strings.Repeat("q", 52)
	if !account.LooksLikeAPIToken(unknown) {
		t.Fatal("the unknown token is not token-shaped")
	}
	suspended := newUploadUser(t)
	inactive, _ := newAPIToken(t, suspended.ID, apiTokenOpts{})
	if err := testdb.Store(t).Ent.User.UpdateOneID(suspended.ID).SetStatus("disabled").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, token, want string }{
		{"unknown", unknown, "Invalid API token"},
		{"revoked", revoked, "This API token has been revoked"},
		{"expired", expired, "This API token has expired"},
		{"inactive account", inactive, "The account of this API token is not active"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := sdistUpload(t, fmt.Sprintf("dead%d", clientSeq.Add(1)), "1.0")
			r := a.post(t, form.request(t, testBase), "__token__", tc.token, uploadIP())
			r.want(t, http.StatusForbidden, tc.want)
			if n, _ := testdb.Store(t).Ent.ReleaseFile.Query().Where(releasefile.Filename(form.filename)).Count(ctx); n != 0 {
				t.Error("the file was recorded")
			}
		})
	}
}

func TestUploadOverHTTP(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.Store(t).Ent
	a := newUploadApp(t, 64<<10)
	u := newUploadUser(t)
	token, tokRow := newAPIToken(t, u.ID, apiTokenOpts{})
	project := fmt.Sprintf("http-upload-%d", clientSeq.Add(1))
	ip := uploadIP()

	// Success: the row, its digests, and the bytes on disk.
	form := sdistUpload(t, project, "1.0")
	a.post(t, form.request(t, testBase), "__token__", token, ip).want(t, http.StatusOK, "OK")
	f, err := db.ReleaseFile.Query().Where(releasefile.Filename(form.filename)).Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d := digestsOf(form.content)
	if f.Sha256 != d.sha256 || f.Md5 == nil || *f.Md5 != d.md5 || f.Blake2256 == nil || *f.Blake2256 != d.blake2 || f.Size != int64(len(form.content)) {
		t.Errorf("row digests %s %v %v, size %d; want %+v, %d", f.Sha256, f.Md5, f.Blake2256, f.Size, d, len(form.content))
	}
	if f.UploaderID != u.ID || f.APITokenID == nil || *f.APITokenID != tokRow.ID || f.IP != ip || f.PackageType != "sdist" {
		t.Errorf("row uploader %d token %v ip %q type %s", f.UploaderID, f.APITokenID, f.IP, f.PackageType)
	}
	path, err := a.reg.Files().Path(f.StorageKey)
	if err != nil {
		t.Fatal(err)
	}
	if stored, err := os.ReadFile(path); err != nil || !bytes.Equal(stored, form.content) {
		t.Errorf("stored file %s: %v", path, err)
	}
	owner, err := db.ProjectRole.Query().Where(projectrole.UserID(u.ID), projectrole.RoleEQ(projectrole.RoleOwner)).
		WithProject().All(ctx)
	if err != nil || len(owner) != 1 || owner[0].Edges.Project.Name != project {
		t.Errorf("the uploader's owned projects: %v, %v", owner, err)
	}

	t.Run("duplicate file", func(t *testing.T) {
		r := a.post(t, form.request(t, testBase), "__token__", token, ip)
		r.want(t, http.StatusBadRequest, "File already exists")
	})
	t.Run("digest mismatch", func(t *testing.T) {
		bad := sdistUpload(t, project, "1.1")
		bad.fields["sha256_digest"] = strings.Repeat("ab", 32)
		a.post(t, bad.request(t, testBase), "__token__", token, ip).
			want(t, http.StatusBadRequest, "The sha256_digest sent ("+strings.Repeat("ab", 32)+") does not match the file received")
	})
	t.Run("wrong project", func(t *testing.T) {
		other := newUploadUser(t)
		otherToken, _ := newAPIToken(t, other.ID, apiTokenOpts{})
		a.post(t, sdistUpload(t, project, "2.0").request(t, testBase), "__token__", otherToken, uploadIP()).
			want(t, http.StatusForbidden, "isn't allowed to upload to the project "+project)
	})
	t.Run("project token for another project", func(t *testing.T) {
		p, err := db.Project.Create().SetName(project + "-docs").SetNameNormalized(account.NormalizeProjectName(project + "-docs")).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.ProjectRole.Create().SetProjectID(p.ID).SetUserID(u.ID).SetRole(projectrole.RoleOwner).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		scoped, _ := newAPIToken(t, u.ID, apiTokenOpts{projectID: &p.ID})
		a.post(t, sdistUpload(t, project, "3.0").request(t, testBase), "__token__", scoped, ip).
			want(t, http.StatusForbidden, "This API token is scoped to the project "+p.Name)
	})
	t.Run("size limit", func(t *testing.T) {
		big := sdistUpload(t, project, "4.0")
		big.content = append(big.content, bytes.Repeat([]byte{0}, 64<<10)...)
		delete(big.fields, "sha256_digest")
		delete(big.fields, "md5_digest")
		delete(big.fields, "blake2_256_digest")
		a.post(t, big.request(t, testBase), "__token__", token, ip).
			want(t, http.StatusRequestEntityTooLarge, "File too large: the limit for one file is 64 KiB.")
	})
	t.Run("filename against version", func(t *testing.T) {
		wrong := sdistUpload(t, project, "5.0")
		wrong.fields["version"] = "5.1"
		a.post(t, wrong.request(t, testBase), "__token__", token, ip).
			want(t, http.StatusBadRequest, "does not match the version 5.1")
	})
	t.Run("not multipart", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, testBase+"/legacy/", strings.NewReader(":action=file_upload"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		a.post(t, req, "__token__", token, ip).want(t, http.StatusBadRequest, "multipart/form-data")
	})
	t.Run("no file", func(t *testing.T) {
		empty := sdistUpload(t, project, "6.0")
		empty.content = nil
		a.post(t, empty.request(t, testBase), "__token__", token, ip).
			want(t, http.StatusBadRequest, "Missing the required field content")
	})
}

// Only the upload endpoint takes bodies beyond the usual 4 MiB: raising
// the server's limit for it must not open other routes.
func TestLargeBodiesOnlyForUploads(t *testing.T) {
	t.Parallel()
	a := newUploadApp(t, 0)
	big := strings.Repeat("x", 5<<20)
	req, _ := http.NewRequest(http.MethodPost, testBase+"/login", strings.NewReader("username="+big))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := a.app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 5 MiB sign-in form: status %d, want 413", res.StatusCode)
	}

	// A 5 MiB package is received whole and stored.
	u := newUploadUser(t)
	token, _ := newAPIToken(t, u.ID, apiTokenOpts{})
	form := sdistUpload(t, fmt.Sprintf("bigpkg%d", clientSeq.Add(1)), "1.0")
	form.content = append(form.content, bytes.Repeat([]byte{1}, 5<<20)...)
	d := digestsOf(form.content)
	form.fields["sha256_digest"], form.fields["md5_digest"], form.fields["blake2_256_digest"] = d.sha256, d.md5, d.blake2
	a.post(t, form.request(t, testBase), "__token__", token, uploadIP()).want(t, http.StatusOK, "OK")
}
