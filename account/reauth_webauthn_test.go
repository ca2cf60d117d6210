package account_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// reauthKeyUser is a signed-in user whose sign-in is older than the
// re-authentication window, with a registered soft key.
func reauthKeyUser(t *testing.T, s *account.Services, st *store.Store) (*ent.User, *ent.Session, *softKey) {
	t.Helper()
	ctx := context.Background()
	u, sess, _ := signedIn(t, s, st)
	key := newSoftKey(t, waOrigin)
	opts, err := s.BeginKeyRegistration(ctx, sess.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinishKeyRegistration(ctx, sess.ID, u.ID, "Blue key", key.create(opts), account.Attempt{}); err != nil {
		t.Fatal(err)
	}
	// created_at is immutable in ent: age the session with SQL.
	if _, err := st.Pool.Exec(ctx, "UPDATE sessions SET created_at = $1 WHERE id = $2", time.Now().Add(-time.Hour), sess.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Security.RequireReauth(ctx, sess.ID); !errors.Is(err, account.ErrReauthRequired) {
		t.Fatalf("RequireReauth of an hour-old sign-in: %v", err)
	}
	return u, sess, key
}

func TestReauthWithSecurityKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, st := newServices(t)
	at := account.Attempt{IP: "192.0.2.10", UserAgent: "test"}

	// Without keys there is nothing to begin.
	bare, bareSess, _ := signedIn(t, s, st)
	if _, err := s.BeginReauthWebAuthn(ctx, bareSess.ID, bare.ID); !errors.Is(err, account.ErrKeyNotFound) {
		t.Fatalf("begin without keys: %v, want ErrKeyNotFound", err)
	}

	u, sess, key := reauthKeyUser(t, s, st)
	if err := s.FinishReauthWebAuthn(ctx, sess.ID, u.ID, []byte(`{}`), at); !errors.Is(err, account.ErrCeremonyExpired) {
		t.Fatalf("finish without begin: %v, want ErrCeremonyExpired", err)
	}
	opts, err := s.BeginReauthWebAuthn(ctx, sess.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	answer := key.get(opts)
	if err := s.FinishReauthWebAuthn(ctx, sess.ID, u.ID, answer, at); err != nil {
		t.Fatalf("finish with the key: %v", err)
	}
	if err := s.Security.RequireReauth(ctx, sess.ID); err != nil {
		t.Fatalf("RequireReauth after the key: %v", err)
	}
	keys, err := s.WebAuthn.ListKeys(ctx, u.ID)
	if err != nil || len(keys) != 1 || keys[0].LastUsedAt == nil {
		t.Errorf("the key's use was not recorded: %+v, %v", keys, err)
	}
	// The same answer again: the state is gone.
	if err := s.FinishReauthWebAuthn(ctx, sess.ID, u.ID, answer, at); !errors.Is(err, account.ErrCeremonyExpired) {
		t.Fatalf("second finish: %v, want ErrCeremonyExpired", err)
	}

	// A failed verification uses the state up, and is recorded.
	failedBefore := countEvents(t, st, u.ID, account.EventLoginFailed)
	opts, err = s.BeginReauthWebAuthn(ctx, sess.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.FinishReauthWebAuthn(ctx, sess.ID, u.ID, []byte(`{"id":"x"}`), at); !errors.Is(err, account.ErrWebAuthnFailed) {
		t.Fatalf("garbage answer: %v, want ErrWebAuthnFailed", err)
	}
	if n := countEvents(t, st, u.ID, account.EventLoginFailed); n != failedBefore+1 {
		t.Errorf("%d failed-login events after a bad key answer, want %d", n, failedBefore+1)
	}
	if err := s.FinishReauthWebAuthn(ctx, sess.ID, u.ID, key.get(opts), at); !errors.Is(err, account.ErrCeremonyExpired) {
		t.Fatalf("finish after a failed one: %v, want ErrCeremonyExpired", err)
	}

	// An answer to an earlier challenge does not pass a new ceremony.
	opts, err = s.BeginReauthWebAuthn(ctx, sess.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	stale := key.get(opts)
	if _, err := s.BeginReauthWebAuthn(ctx, sess.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishReauthWebAuthn(ctx, sess.ID, u.ID, stale, at); !errors.Is(err, account.ErrWebAuthnFailed) {
		t.Fatalf("answer to a replaced challenge: %v, want ErrWebAuthnFailed", err)
	}

	// Another session of the user cannot finish this one's ceremony, and
	// is not marked re-authenticated.
	opts, err = s.BeginReauthWebAuthn(ctx, sess.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	otherToken, err := s.Sessions.Create(ctx, nil, u.ID, account.SessionMeta{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.Sessions.Lookup(ctx, otherToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.FinishReauthWebAuthn(ctx, other.ID, u.ID, key.get(opts), at); !errors.Is(err, account.ErrCeremonyExpired) {
		t.Fatalf("finish from another session: %v, want ErrCeremonyExpired", err)
	}
	// Nor can another user finish it with their own session.
	stranger, strangerSess, _ := signedIn(t, s, st)
	if err := s.FinishReauthWebAuthn(ctx, strangerSess.ID, stranger.ID, key.get(opts), at); !errors.Is(err, account.ErrCeremonyExpired) {
		t.Fatalf("finish by another user: %v, want ErrCeremonyExpired", err)
	}
}

func TestReauthWithSecurityKeyIsRateLimited(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, st := newServices(t)
	u, sess, key := reauthKeyUser(t, s, st)
	at := account.Attempt{IP: "192.0.2.11"}

	var limited *account.RateLimitedError
	for i := range 20 {
		if _, err := s.BeginReauthWebAuthn(ctx, sess.ID, u.ID); err != nil {
			t.Fatal(err)
		}
		err := s.FinishReauthWebAuthn(ctx, sess.ID, u.ID, []byte(`{"id":"x"}`), at)
		if errors.As(err, &limited) {
			if i < 10 {
				t.Fatalf("limited after %d attempts", i+1)
			}
			break
		}
		if !errors.Is(err, account.ErrWebAuthnFailed) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	if limited == nil {
		t.Fatal("20 bad key answers were not rate-limited")
	}
	// Refused by the limit, even a good answer does not get through, and
	// the budget is the password's too.
	opts, err := s.BeginReauthWebAuthn(ctx, sess.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.FinishReauthWebAuthn(ctx, sess.ID, u.ID, key.get(opts), at); !errors.As(err, &limited) {
		t.Fatalf("a good answer over the limit: %v, want *RateLimitedError", err)
	}
	if err := s.ConfirmPassword(ctx, sess.ID, u.ID, "whatever", at); !errors.As(err, &limited) {
		t.Fatalf("password after the key budget was spent: %v, want *RateLimitedError", err)
	}
	if err := s.Security.RequireReauth(ctx, sess.ID); !errors.Is(err, account.ErrReauthRequired) {
		t.Fatalf("re-authenticated over the limit: %v", err)
	}
}
