package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/evidenceitem"
	"github.com/recoverydesk/recoverydesk/ent/releasefile"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/internal/config"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/registry"
	"github.com/recoverydesk/recoverydesk/web"
)

// requireTwine returns the path of twine, or skips the test loudly when
// it is missing (fails it under REQUIRE_TWINE=1, which CI sets after
// installing Debian's twine).
func requireTwine(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("twine")
	if err != nil {
		msg := "TWINE TEST NOT RUN: twine not found on PATH (install the Debian package twine)"
		if os.Getenv("REQUIRE_TWINE") == "1" {
			t.Fatal(msg + "; REQUIRE_TWINE=1 makes this a failure")
		}
		t.Skip("!!! " + msg + "; set REQUIRE_TWINE=1 to make this a failure !!!")
	}
	return path
}

// twineServer is the app on a real loopback socket with the upload
// endpoint, the desk's evidence and the public project page.
type twineServer struct {
	base     string
	reg      *registry.Service
	intake   *desk.Intake
	evidence *desk.Evidence
}

func newTwineServer(t *testing.T) *twineServer {
	t.Helper()
	st := testdb.Store(t)
	logs := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("app log:\n%s", logs.String())
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base, err := url.Parse("http://" + ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Config{
		SiteName:       testSite,
		BaseURL:        base,
		SecretKey:      bytes.Repeat([]byte("t"), 32),
		SupportAddress: testSupport,
		Mode:           config.ModeServe,
	}
	reg, err := registry.NewService(registry.Options{Store: st, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	intake, ev, tr := newDeskTriage(t, cfg, desk.EvidenceOptions{}, desk.TriageOptions{})
	acct := newAccountServices(t, cfg)
	app, err := web.New(web.Deps{
		Config:   cfg,
		Logger:   stackLogger(logs),
		Sessions: acct.Sessions,
		Account:  acct,
		Desk:     intake,
		Evidence: ev,
		Triage:   tr,
		Registry: reg,
		Ready:    func(context.Context) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	serveForTest(t, app, ln)
	return &twineServer{base: base.String(), reg: reg, intake: intake, evidence: ev}
}

// twine runs `twine upload` against the server with user and password and
// returns its exit error and its output, whitespace collapsed (twine's
// console wraps long lines). HOME and every setting are the test's own:
// no ~/.pypirc, no TWINE_* variables, no keyring.
func (s *twineServer) twine(t *testing.T, bin, user, password string, files ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{"upload", "--non-interactive", "--disable-progress-bar",
		"--repository-url", s.base + web.PathUpload, "-u", user, "-p", password}, files...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring",
		"LC_ALL=C.UTF-8",
		"NO_COLOR=1",
		"COLUMNS=400",
	}
	out, err := cmd.CombinedOutput()
	t.Logf("twine upload -u %s %s:\n%s", user, strings.Join(files, " "), out)
	return strings.Join(strings.Fields(string(out)), " "), err
}

// TestTwineUploads drives the upload endpoint with the real client: an
// sdist and a wheel built here go up with an API token, appear on the
// project page and in the evidence of a recovery case for the account; a
// second upload of the same files and a password are refused with
// messages twine shows.
func TestTwineUploads(t *testing.T) {
	bin := requireTwine(t)
	ctx := context.Background()
	db := testdb.Store(t).Ent
	s := newTwineServer(t)

	// An account with verified addresses and TOTP, and its API token.
	owner := seedDeskAccount(t, "")
	token, tokRow := newAPIToken(t, owner.ID, apiTokenOpts{})

	project := fmt.Sprintf("twine-demo-%d", time.Now().UnixNano()%1e9)
	dist := t.TempDir()
	sdistName, sdistData := buildSdist(t, project, "1.0")
	wheelName, wheelData := buildWheel(t, project, "1.0")
	files := map[string][]byte{sdistName: sdistData, wheelName: wheelData}
	var paths []string
	for name, data := range files {
		p := filepath.Join(dist, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}

	out, err := s.twine(t, bin, "__token__", token, paths...)
	if err != nil {
		t.Fatalf("twine upload failed: %v: %s", err, out)
	}
	for name, data := range files {
		f, err := db.ReleaseFile.Query().Where(releasefile.Filename(name)).WithRelease().Only(ctx)
		if err != nil {
			t.Fatalf("%s not recorded: %v", name, err)
		}
		d := digestsOf(data)
		if f.Sha256 != d.sha256 || f.Md5 == nil || *f.Md5 != d.md5 || f.Blake2256 == nil || *f.Blake2256 != d.blake2 || f.Size != int64(len(data)) {
			t.Errorf("%s: digests %s %v %v size %d, want %+v size %d", name, f.Sha256, f.Md5, f.Blake2256, f.Size, d, len(data))
		}
		if f.UploaderID != owner.ID || f.APITokenID == nil || *f.APITokenID != tokRow.ID || f.IP != "127.0.0.1" {
			t.Errorf("%s: uploader %d token %v ip %q", name, f.UploaderID, f.APITokenID, f.IP)
		}
		if f.Edges.Release.Version != "1.0" {
			t.Errorf("%s: release %s", name, f.Edges.Release.Version)
		}
		path, err := s.reg.Files().Path(f.StorageKey)
		if err != nil {
			t.Fatal(err)
		}
		if stored, err := os.ReadFile(path); err != nil || !bytes.Equal(stored, data) {
			t.Errorf("%s: stored bytes differ (%v)", name, err)
		}
	}

	// The same files again: refused, and twine says why.
	out, err = s.twine(t, bin, "__token__", token, paths...)
	if err == nil || !strings.Contains(out, "File already exists") {
		t.Errorf("second upload: %v, output lacks File already exists: %s", err, out)
	}

	// A username and password: refused with the message saying a token
	// must be used.
	out, err = s.twine(t, bin, "someuser", "somepassword", paths...)
	if err == nil || !strings.Contains(out, "403") ||
		!strings.Contains(out, "Passwords cannot be used to upload: an API token must be used") {
		t.Errorf("password upload: %v, output: %s", err, out)
	}

	// The public project page lists both files.
	res, err := http.Get(s.base + "/project/" + project)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET /project/%s: status %d", project, res.StatusCode)
	}
	for name := range files {
		if !bytes.Contains(page, []byte(name)) {
			t.Errorf("the project page does not list %s", name)
		}
	}

	// A recovery request for the account: its upload-history evidence
	// shows the upload.
	got, err := s.intake.Submit(ctx, desk.RecoveryForm{
		Username: owner.Username, ContactEmail: owner.Home, Name: "Twine Owner", HasPassword: true,
		Explanation: "I lost my phone with the authenticator app and have no recovery codes.",
	}, desk.Origin{IP: uploadIP(), UserAgent: "twine-test"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.SupportCase.Query().Where(supportcase.Reference(got.Reference)).Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	runEvidence(t, s.evidence, desk.AccountMatchArgs{CaseID: c.ID}, desk.UploadHistoryArgs{CaseID: c.ID})
	items, err := db.EvidenceItem.Query().
		Where(evidenceitem.CaseID(c.ID), evidenceitem.Kind(desk.KindUploadHistory)).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, it := range items {
		text, _ := json.Marshal(it.Finding)
		if !strings.Contains(string(text), project) {
			continue
		}
		found = true
		if !strings.Contains(it.Finding.Summary, sdistName) && !strings.Contains(it.Finding.Summary, wheelName) {
			t.Errorf("the upload history names neither file: %s", it.Finding.Summary)
		}
		if !strings.Contains(string(text), `"1.0"`) {
			t.Errorf("the upload history lacks the version 1.0: %s", text)
		}
	}
	if !found {
		var seen []string
		for _, it := range items {
			seen = append(seen, it.Finding.Summary)
		}
		t.Errorf("no upload-history evidence for %s; the case has: %v", project, seen)
	}
}
