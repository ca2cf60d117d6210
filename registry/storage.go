package registry

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	"golang.org/x/crypto/blake2b"
)

// FileStore keeps distribution files in a directory, content-addressed by
// SHA-256 (see the package documentation for why a directory).
type FileStore struct {
	dir string
}

// NewFileStore stores files under dir, creating it when first needed.
func NewFileStore(dir string) *FileStore { return &FileStore{dir: dir} }

// StoredFile is a file written to the store: its key and what hashing it
// found, digests in lower-case hex.
type StoredFile struct {
	Key        string
	Size       int64
	SHA256     string
	MD5        string
	Blake2b256 string
}

// keyRE is the shape of a key; Path refuses anything else, so a key from
// the database can never name a file outside the store.
var keyRE = regexp.MustCompile(`^sha256/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}$`)

// Put copies r into the store, hashing it on the way, and refuses it with
// a RefusedTooLarge refusal past limit bytes. The bytes go to a temporary
// file in the store's own tree (so the final rename stays on one file
// system), which is fsynced and renamed to its key: a key names a
// complete file or nothing. Storing bytes that are already there replaces
// the file with an identical one. accept (when not nil) sees the digests
// before the rename; its error refuses the file and leaves nothing behind,
// so a refused upload cannot fill the disk.
func (s *FileStore) Put(ctx context.Context, r io.Reader, limit int64, accept func(StoredFile) error) (StoredFile, error) {
	tmpDir := filepath.Join(s.dir, "tmp")
	if err := os.MkdirAll(tmpDir, 0o750); err != nil {
		return StoredFile{}, fmt.Errorf("registry: create %s: %w", tmpDir, err)
	}
	tmp, err := os.CreateTemp(tmpDir, "upload-*")
	if err != nil {
		return StoredFile{}, fmt.Errorf("registry: create temporary file: %w", err)
	}
	renamed := false
	defer func() {
		if !renamed {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()

	b2, err := blake2b.New256(nil)
	if err != nil {
		return StoredFile{}, fmt.Errorf("registry: blake2b: %w", err)
	}
	sha, md := sha256.New(), md5.New()
	// One byte past the limit is enough to know the file is too large.
	n, err := io.Copy(io.MultiWriter(tmp, sha, md, b2), io.LimitReader(r, limit+1))
	if err != nil {
		return StoredFile{}, fmt.Errorf("registry: write upload: %w", err)
	}
	if n > limit {
		return StoredFile{}, tooLarge(limit)
	}
	// A shutdown during a long copy stores nothing.
	if err := ctx.Err(); err != nil {
		return StoredFile{}, fmt.Errorf("registry: write upload: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return StoredFile{}, fmt.Errorf("registry: sync upload: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return StoredFile{}, fmt.Errorf("registry: close upload: %w", err)
	}
	f := StoredFile{
		Size:       n,
		SHA256:     hex.EncodeToString(sha.Sum(nil)),
		MD5:        hex.EncodeToString(md.Sum(nil)),
		Blake2b256: hex.EncodeToString(b2.Sum(nil)),
	}
	f.Key = "sha256/" + f.SHA256[:2] + "/" + f.SHA256[2:4] + "/" + f.SHA256
	if accept != nil {
		if err := accept(f); err != nil {
			return StoredFile{}, err
		}
	}
	final, err := s.Path(f.Key)
	if err != nil {
		return StoredFile{}, err
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
		return StoredFile{}, fmt.Errorf("registry: create %s: %w", filepath.Dir(final), err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return StoredFile{}, fmt.Errorf("registry: store %s: %w", f.Key, err)
	}
	renamed = true
	// The rename is durable once its directory is.
	if err := syncDir(filepath.Dir(final)); err != nil {
		return StoredFile{}, err
	}
	return f, nil
}

// Path is where the file of key lives on disk.
func (s *FileStore) Path(key string) (string, error) {
	if !keyRE.MatchString(key) {
		return "", fmt.Errorf("registry: %q is not a storage key", key)
	}
	return filepath.Join(s.dir, filepath.FromSlash(key)), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("registry: open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("registry: sync %s: %w", dir, err)
	}
	return nil
}
