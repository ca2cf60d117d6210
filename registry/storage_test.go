package registry_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/recoverydesk/recoverydesk/registry"
)

func TestFileStoreIsContentAddressed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	fs := registry.NewFileStore(dir)
	f, err := fs.Put(ctx, bytes.NewReader([]byte("hello")), 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Known digests of "hello".
	const sha = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	if f.SHA256 != sha || f.MD5 != "5d41402abc4b2a76b9719d911017c592" ||
		f.Blake2b256 != "324dcf027dd4a30a932c441f365a25e86b173defa4b8e58948253471b81b72cf" || f.Size != 5 {
		t.Fatalf("stored %+v", f)
	}
	if f.Key != "sha256/2c/f2/"+sha {
		t.Errorf("key %s", f.Key)
	}
	path, err := fs.Path(f.Key)
	if err != nil || path != filepath.Join(dir, "sha256", "2c", "f2", sha) {
		t.Fatalf("path %s, %v", path, err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "hello" {
		t.Fatalf("file holds %q, %v", b, err)
	}

	// The same bytes again land on the same key.
	again, err := fs.Put(ctx, bytes.NewReader([]byte("hello")), 100, nil)
	if err != nil || again != f {
		t.Fatalf("second put %+v, %v", again, err)
	}
	// Too large: refused, and no temporary file is left behind.
	_, err = fs.Put(ctx, bytes.NewReader(bytes.Repeat([]byte("x"), 101)), 100, nil)
	refused(t, err, registry.RefusedTooLarge, "100 bytes")
	if left, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	// Refused by accept (a digest mismatch): neither the file nor a
	// temporary one is left.
	mismatch := errors.New("digest mismatch")
	var seen registry.StoredFile
	_, err = fs.Put(ctx, bytes.NewReader([]byte("refused bytes")), 100, func(f registry.StoredFile) error { seen = f; return mismatch })
	if !errors.Is(err, mismatch) {
		t.Fatalf("refused put: %v, want accept's error", err)
	}
	if p, _ := fs.Path(seen.Key); seen.Key == "" || fileExists(p) {
		t.Errorf("refused file kept at %q", seen.Key)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(left) != 0 {
		t.Errorf("temporary files left after a refusal: %v", left)
	}
	// Keys from elsewhere never name a path outside the store.
	for _, bad := range []string{"../../etc/passwd", "demo/pkg-1.0.tar.gz", "sha256/2c/f2/" + sha + "/.."} {
		if _, err := fs.Path(bad); err == nil {
			t.Errorf("Path(%q) accepted", bad)
		}
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
