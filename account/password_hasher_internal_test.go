package account

import (
	"context"
	"errors"
	"testing"
)

// With every slot taken, a hash waits; a caller whose context ends while
// waiting gets its error and no hash is computed. A freed slot lets the
// next one through.
func TestHasherLimitsConcurrentHashes(t *testing.T) {
	h := NewHasher(PasswordParams{Memory: 8, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2)
	var releases []func()
	for range 2 {
		release, err := h.acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash with every slot taken = %v, want context.Canceled", err)
	}
	if _, _, err := h.Verify(ctx, "$argon2id$...", "pw"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify with every slot taken = %v, want context.Canceled", err)
	}
	releases[0]()
	hash, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := h.Verify(context.Background(), hash, "pw"); err != nil || !ok {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
	releases[1]()
}
