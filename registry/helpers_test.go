package registry_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/projectrole"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/registry"
)

// fixture is an upload service on the package database with its files in
// a directory of the test's own.
type fixture struct {
	st  *store.Store
	svc *registry.Service
	dir string // the file store's
}

func newFixture(t *testing.T, maxSize int64) *fixture {
	t.Helper()
	st := testdb.Store(t)
	dir := t.TempDir()
	svc, err := registry.NewService(registry.Options{Store: st, Dir: dir, MaxSize: maxSize})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, svc: svc, dir: dir}
}

var seq atomic.Int64

// unique is a fresh name with prefix, valid as a user or project name.
func unique(prefix string) string {
	return fmt.Sprintf("%s%d-%d", prefix, time.Now().UnixNano()%1e9, seq.Add(1))
}

func (fx *fixture) newUser(t *testing.T) *ent.User {
	t.Helper()
	name := unique("up")
	u, err := fx.st.Ent.User.Create().SetUsername(name).SetUsernameNormalized(account.NormalizeUsername(name)).Save(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// tokenOpts shape a test token: scoped to a project, expired, revoked.
type tokenOpts struct {
	project          *ent.Project
	expires, revoked *time.Time
}

// newToken stores an API token for u and returns its secret.
func (fx *fixture) newToken(t *testing.T, u *ent.User, o tokenOpts) string {
	t.Helper()
	sec, err := account.NewAPITokenSecret()
	if err != nil {
		t.Fatal(err)
	}
	c := fx.st.Ent.APIToken.Create().SetUserID(u.ID).SetName("test token").
		SetTokenHash(sec.Hash).SetPrefix(sec.Prefix).
		SetNillableExpiresAt(o.expires).SetNillableRevokedAt(o.revoked)
	if o.project != nil {
		c.SetProjectID(o.project.ID)
	}
	if err := c.Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	return sec.Token
}

// auth authenticates token as the upload endpoint does.
func (fx *fixture) auth(t *testing.T, token string) *ent.APIToken {
	t.Helper()
	tok, err := fx.svc.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// newProject creates a project with u in role.
func (fx *fixture) newProject(t *testing.T, u *ent.User, role projectrole.Role) *ent.Project {
	t.Helper()
	ctx := context.Background()
	name := unique("proj")
	p, err := fx.st.Ent.Project.Create().SetName(name).SetNameNormalized(account.NormalizeProjectName(name)).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.st.Ent.ProjectRole.Create().SetProjectID(p.ID).SetUserID(u.ID).SetRole(role).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return p
}

// sdist is a small but real source distribution of name and version.
func sdist(t *testing.T, name, version string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	pkgInfo := fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: A test package\n", name, version)
	if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("%s-%s/PKG-INFO", name, version), Mode: 0o644, Size: int64(len(pkgInfo))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte(pkgInfo)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// wheel is a small zip named like a wheel's content.
func wheel(t *testing.T, name, version string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(fmt.Sprintf("%s-%s.dist-info/METADATA", name, version))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "Metadata-Version: 2.1\nName: %s\nVersion: %s\n", name, version)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sdistRequest is a complete upload of an sdist, digests included.
func sdistRequest(t *testing.T, tok *ent.APIToken, name, version string) registry.UploadRequest {
	t.Helper()
	data := sdist(t, name, version)
	return request(tok, name, version, registry.FileTypeSdist, fmt.Sprintf("%s-%s.tar.gz", name, version), "source", data)
}

// wheelRequest is a complete upload of a wheel, digests included.
func wheelRequest(t *testing.T, tok *ent.APIToken, name, version string) registry.UploadRequest {
	t.Helper()
	data := wheel(t, name, version)
	// PEP 427: the name's runs of "-", "_" and "." become "_".
	escaped := strings.ReplaceAll(account.NormalizeProjectName(name), "-", "_")
	return request(tok, name, version, registry.FileTypeWheel, fmt.Sprintf("%s-%s-py3-none-any.whl", escaped, version), "py3", data)
}

func request(tok *ent.APIToken, name, version, filetype, filename, pyversion string, data []byte) registry.UploadRequest {
	sha := sha256.Sum256(data)
	md := md5.Sum(data)
	return registry.UploadRequest{
		Token: tok, Action: "file_upload", ProtocolVersion: "1",
		Name: name, Version: version, FileType: filetype, PythonVersion: pyversion,
		Summary:      "A test package",
		SHA256Digest: hex.EncodeToString(sha[:]), MD5Digest: hex.EncodeToString(md[:]),
		Filename: filename, Content: bytes.NewReader(data), Size: int64(len(data)),
		IP: "192.0.2.7",
	}
}

// refused asserts that err is a refusal of kind whose message holds want.
func refused(t *testing.T, err error, kind registry.RefusalKind, want string) {
	t.Helper()
	r, ok := registry.AsRefusal(err)
	if !ok {
		t.Fatalf("err = %v, want a refusal (%q)", err, want)
	}
	if r.Kind != kind {
		t.Errorf("refusal kind %d, want %d: %s", r.Kind, kind, r.Message)
	}
	if !bytes.Contains([]byte(r.Message), []byte(want)) {
		t.Errorf("refusal %q does not say %q", r.Message, want)
	}
}

// storedFiles counts the regular files in the fixture's store.
func (fx *fixture) storedFiles(t *testing.T) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(fx.dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
