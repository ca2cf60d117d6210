package account

import (
	"context"
	"fmt"
	"runtime"
)

// Hasher hashes and checks passwords, at most a few at a time. An argon2id
// hash holds a core and PasswordParams.Memory (64 MiB) for about 60 ms; a
// flood of logins from many addresses, each within its rate limits, would
// otherwise run hundreds at once, take gigabytes and stall every other
// request. Callers beyond the limit wait their turn, or give up with
// their context.
type Hasher struct {
	params PasswordParams
	slots  chan struct{}
}

// NewHasher returns a Hasher with params running at most concurrent
// hashes (0: one per CPU).
func NewHasher(params PasswordParams, concurrent int) *Hasher {
	if concurrent <= 0 {
		concurrent = runtime.GOMAXPROCS(0)
	}
	return &Hasher{params: params, slots: make(chan struct{}, concurrent)}
}

// acquire waits for a free slot.
func (h *Hasher) acquire(ctx context.Context) (release func(), err error) {
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("account: waiting to hash a password: %w", ctx.Err())
	}
}

// Hash is HashPassword with h's parameters, in turn.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return HashPassword(password, h.params)
}

// Verify is VerifyPassword against h's parameters, in turn.
func (h *Hasher) Verify(ctx context.Context, hash, password string) (ok, rehash bool, err error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()
	return VerifyPassword(hash, password, h.params)
}

// hasherFor is the shared hasher when given, else one of its own with
// params (nil: DefaultPasswordParams).
func hasherFor(shared *Hasher, params *PasswordParams) *Hasher {
	if shared != nil {
		return shared
	}
	p := DefaultPasswordParams
	if params != nil {
		p = *params
	}
	return NewHasher(p, 0)
}
