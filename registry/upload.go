package registry

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/release"
	"github.com/recoverydesk/recoverydesk/ent/releasefile"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// UploadRequest is one file sent over the classic upload protocol: the
// form fields twine sends, the file, and who sent it from where.
type UploadRequest struct {
	// Token is the authenticated API token with its user loaded (as
	// Authenticate returns it).
	Token *ent.APIToken
	// Action and ProtocolVersion are the ":action" and "protocol_version"
	// fields: "file_upload" and "1".
	Action, ProtocolVersion string
	// Name and Version are the project's name and the release's version.
	Name, Version string
	// FileType is "sdist" or "bdist_wheel".
	FileType string
	// PythonVersion is "pyversion": "source" for an sdist, the Python tag
	// of a wheel.
	PythonVersion string
	// Summary becomes a new project's description.
	Summary string
	// Digests the client computed, hex; each one sent must match.
	SHA256Digest, MD5Digest, Blake2256Digest string
	// Filename is the content part's file name.
	Filename string
	// Content is the file; Size its declared length, -1 when unknown (a
	// declared size over the limit is refused before Content is read).
	Content io.Reader
	Size    int64
	// IP is the client's address.
	IP string
}

// UploadResult is a recorded upload.
type UploadResult struct {
	Project *ent.Project
	// ProjectCreated: this upload created the project.
	ProjectCreated bool
	Release        *ent.Release
	File           *ent.ReleaseFile
}

// maxSummary bounds a summary, as the big index does.
const maxSummary = 512

var (
	pythonVersionRE = regexp.MustCompile(`^[A-Za-z0-9_.]{1,50}$`)
	hexRE           = regexp.MustCompile(`^[0-9a-fA-F]+$`)
)

// Upload checks an upload against every rule and records it; a broken
// rule is a *Refusal whose message says which. See the package
// documentation for the order of the checks.
func (s *Service) Upload(ctx context.Context, req UploadRequest) (*UploadResult, error) {
	if req.Token == nil || req.Token.Edges.User == nil {
		return nil, errors.New("registry: upload without an authenticated token and its user")
	}
	if err := checkRequest(req); err != nil {
		return nil, err
	}
	if req.Size > s.maxSize {
		return nil, tooLarge(s.maxSize)
	}
	// Checked before a byte is written, and again under the lock.
	if _, err := s.authorize(ctx, s.st.Ent, req, false); err != nil {
		return nil, err
	}
	if taken, err := s.st.Ent.ReleaseFile.Query().Where(releasefile.Filename(req.Filename)).Exist(ctx); err != nil {
		return nil, fmt.Errorf("registry: look up file %s: %w", req.Filename, err)
	} else if taken {
		return nil, fileExists(req.Filename)
	}

	content := bufio.NewReader(req.Content)
	if err := checkArchive(content, req.Filename); err != nil {
		return nil, err
	}
	stored, err := s.files.Put(ctx, content, s.maxSize, func(f StoredFile) error { return checkDigests(req, f) })
	if err != nil {
		return nil, err
	}

	var res *UploadResult
	err = s.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		res, err = s.record(ctx, tx, req, stored)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// record writes the project (when new), the release (when new) and the
// file row, under a lock on the project's name.
func (s *Service) record(ctx context.Context, tx *store.Tx, req UploadRequest, stored StoredFile) (*UploadResult, error) {
	norm := account.NormalizeProjectName(req.Name)
	if _, err := tx.Pgx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "registry.project:"+norm); err != nil {
		return nil, fmt.Errorf("registry: lock project %s: %w", norm, err)
	}
	auth, err := s.authorize(ctx, tx.Ent, req, true)
	if err != nil {
		return nil, err
	}
	rel, err := tx.Ent.Release.Query().
		Where(release.ProjectID(auth.project.ID), release.Version(req.Version)).
		Only(ctx)
	if ent.IsNotFound(err) {
		rel, err = tx.Ent.Release.Create().SetProjectID(auth.project.ID).SetVersion(req.Version).Save(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("registry: release %s %s: %w", norm, req.Version, err)
	}
	f, err := tx.Ent.ReleaseFile.Create().
		SetReleaseID(rel.ID).
		SetFilename(req.Filename).
		SetSize(stored.Size).
		SetSha256(stored.SHA256).
		SetMd5(stored.MD5).
		SetBlake2256(stored.Blake2b256).
		SetPackageType(req.FileType).
		SetNillablePythonVersion(optional(req.PythonVersion)).
		SetUploadedAt(s.now()).
		SetUploaderID(req.Token.UserID).
		SetAPITokenID(req.Token.ID).
		SetIP(req.IP).
		SetStorageKey(stored.Key).
		Save(ctx)
	if ent.IsConstraintError(err) {
		// Another upload of this name won since the check in Upload.
		return nil, fileExists(req.Filename)
	}
	if err != nil {
		return nil, fmt.Errorf("registry: record file %s: %w", req.Filename, err)
	}
	return &UploadResult{Project: auth.project, ProjectCreated: auth.created, Release: rel, File: f}, nil
}

// checkRequest checks the fields that need neither the database nor the
// file's bytes.
func checkRequest(req UploadRequest) error {
	if req.Action != "file_upload" {
		if req.Action == "" {
			return invalid("Missing the required field :action; it must be file_upload.")
		}
		return invalid(fmt.Sprintf("Unsupported :action %q: this endpoint accepts only file_upload.", req.Action))
	}
	if req.ProtocolVersion != "1" {
		return invalid(fmt.Sprintf("Unknown protocol_version %q: this endpoint speaks protocol version 1.", req.ProtocolVersion))
	}
	if err := checkProjectName(req.Name); err != nil {
		return err
	}
	if err := checkVersion(req.Version); err != nil {
		return err
	}
	if req.FileType == "" {
		return invalid("Missing the required field filetype (sdist or bdist_wheel).")
	}
	if req.Content == nil {
		return invalid("Missing the required field content (the file).")
	}
	if err := checkFilename(req.Filename, req.FileType, req.Name, req.Version); err != nil {
		return err
	}
	if req.PythonVersion != "" && !pythonVersionRE.MatchString(req.PythonVersion) {
		return invalid(fmt.Sprintf("Invalid pyversion %q: use source for an sdist or the wheel's Python tag.", req.PythonVersion))
	}
	if len(req.Summary) > maxSummary || strings.ContainsAny(req.Summary, "\r\n") {
		return invalid(fmt.Sprintf("Invalid summary: it is one line of at most %d characters.", maxSummary))
	}
	for _, d := range []struct {
		field, value string
		size         int
	}{{"sha256_digest", req.SHA256Digest, 64}, {"md5_digest", req.MD5Digest, 32}, {"blake2_256_digest", req.Blake2256Digest, 64}} {
		if d.value != "" && (len(d.value) != d.size || !hexRE.MatchString(d.value)) {
			return invalid(fmt.Sprintf("Invalid %s: it must be %d hexadecimal characters.", d.field, d.size))
		}
	}
	return nil
}

// checkArchive looks at the first bytes: an sdist or wheel is a gzip or
// zip file, whatever else its name says.
func checkArchive(r *bufio.Reader, filename string) error {
	head, err := r.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("registry: read upload: %w", err)
	}
	if len(head) == 0 {
		return invalid(fmt.Sprintf("The file %s is empty.", filename))
	}
	switch {
	case strings.HasSuffix(filename, ".tar.gz"):
		if !bytes.HasPrefix(head, []byte{0x1f, 0x8b}) {
			return invalid(fmt.Sprintf("The file %s is not gzip-compressed, as its .tar.gz name says.", filename))
		}
	default: // .zip and .whl
		if !bytes.HasPrefix(head, []byte("PK\x03\x04")) {
			return invalid(fmt.Sprintf("The file %s is not a zip archive, as its name says.", filename))
		}
	}
	return nil
}

// checkDigests compares the digests the client sent with the stored
// file's.
func checkDigests(req UploadRequest, f StoredFile) error {
	for _, d := range []struct{ field, sent, got string }{
		{"sha256_digest", req.SHA256Digest, f.SHA256},
		{"md5_digest", req.MD5Digest, f.MD5},
		{"blake2_256_digest", req.Blake2256Digest, f.Blake2b256},
	} {
		if d.sent != "" && !strings.EqualFold(d.sent, d.got) {
			return invalid(fmt.Sprintf("The %s sent (%s) does not match the file received (%s): "+
				"the file changed or was damaged in transit; upload it again.", d.field, strings.ToLower(d.sent), d.got))
		}
	}
	return nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
