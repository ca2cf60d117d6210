package web_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/blake2b"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// distName is a project name as wheel and modern sdist file names write
// it (PEP 427 escaping: runs of "-", "_" and "." become "_").
func distName(project string) string {
	return strings.NewReplacer("-", "_", ".", "_").Replace(account.NormalizeProjectName(project))
}

// buildSdist makes a small but valid sdist: a .tar.gz holding
// NAME-VERSION/PKG-INFO (what twine reads) and a module.
func buildSdist(t *testing.T, project, version string) (filename string, data []byte) {
	t.Helper()
	root := fmt.Sprintf("%s-%s", distName(project), version)
	pkgInfo := fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: A package uploaded by the tests\n"+
		"Author: Test Author\nLicense: MIT\n\nThe long description.\n", project, version)
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	now := time.Now()
	for _, f := range []struct{ name, body string }{
		{root + "/PKG-INFO", pkgInfo},
		{root + "/" + distName(project) + "/__init__.py", "VALUE = 1\n"},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: now}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return root + ".tar.gz", buf.Bytes()
}

// buildWheel makes a small but valid pure-Python wheel: the module and a
// dist-info with METADATA, WHEEL and a RECORD that hashes the others.
func buildWheel(t *testing.T, project, version string) (filename string, data []byte) {
	t.Helper()
	dist := distName(project)
	info := fmt.Sprintf("%s-%s.dist-info", dist, version)
	files := []struct{ name, body string }{
		{dist + "/__init__.py", "VALUE = 1\n"},
		{info + "/METADATA", fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\n"+
			"Summary: A package uploaded by the tests\n\nThe long description.\n", project, version)},
		{info + "/WHEEL", "Wheel-Version: 1.0\nGenerator: recoverydesk-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
	}
	var record strings.Builder
	for _, f := range files {
		sum := sha256.Sum256([]byte(f.body))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", f.name, base64.RawURLEncoding.EncodeToString(sum[:]), len(f.body))
	}
	fmt.Fprintf(&record, "%s/RECORD,,\n", info)
	files = append(files, struct{ name, body string }{info + "/RECORD", record.String()})

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.Create(f.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(f.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s-%s-py3-none-any.whl", dist, version), buf.Bytes()
}

// digests are a file's digests as the upload protocol sends them.
type digests struct{ sha256, md5, blake2 string }

func digestsOf(data []byte) digests {
	sha := sha256.Sum256(data)
	md := md5.Sum(data)
	b2 := blake2b.Sum256(data)
	return digests{hex.EncodeToString(sha[:]), hex.EncodeToString(md[:]), hex.EncodeToString(b2[:])}
}

// uploadForm is one upload as twine sends it.
type uploadForm struct {
	fields   map[string]string
	filename string
	content  []byte
}

// sdistUpload is a complete, valid upload of an sdist.
func sdistUpload(t *testing.T, project, version string) uploadForm {
	t.Helper()
	filename, data := buildSdist(t, project, version)
	d := digestsOf(data)
	return uploadForm{
		fields: map[string]string{
			":action": "file_upload", "protocol_version": "1",
			"name": project, "version": version, "filetype": "sdist", "pyversion": "source",
			"metadata_version": "2.1", "summary": "A package uploaded by the tests",
			"sha256_digest": d.sha256, "md5_digest": d.md5, "blake2_256_digest": d.blake2,
		},
		filename: filename,
		content:  data,
	}
}

// request builds the multipart POST to the upload endpoint.
func (f uploadForm) request(t *testing.T, base string) *http.Request {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range f.fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if f.content != nil {
		w, err := mw.CreateFormFile("content", f.filename)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(f.content); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, base+"/legacy/", &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return req
}

// uploadUser is an account with 2FA that uploads with API tokens.
type uploadUser struct {
	*ent.User
}

// newUploadUser creates an active account with TOTP.
func newUploadUser(t *testing.T) uploadUser {
	t.Helper()
	ctx := context.Background()
	db := testdb.Store(t).Ent
	name := fmt.Sprintf("uploader%d_%d", time.Now().UnixNano()%1e9, userSeq.Add(1))
	u, err := db.User.Create().SetUsername(name).SetUsernameNormalized(account.NormalizeUsername(name)).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.TOTPCredential.Create().SetUserID(u.ID).SetSecret([]byte("12345678901234567890")).
		SetConfirmedAt(time.Now()).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return uploadUser{u}
}

// apiTokenOpts shape a token: scoped to a project, expired or revoked.
type apiTokenOpts struct {
	projectID        *int
	expires, revoked *time.Time
}

// newAPIToken stores an API token for u as the token page would and
// returns the secret and its row.
func newAPIToken(t *testing.T, userID int, o apiTokenOpts) (string, *ent.APIToken) {
	t.Helper()
	sec, err := account.NewAPITokenSecret()
	if err != nil {
		t.Fatal(err)
	}
	row, err := testdb.Store(t).Ent.APIToken.Create().SetUserID(userID).SetName("upload token").
		SetTokenHash(sec.Hash).SetPrefix(sec.Prefix).SetNillableProjectID(o.projectID).
		SetNillableExpiresAt(o.expires).SetNillableRevokedAt(o.revoked).Save(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sec.Token, row
}
