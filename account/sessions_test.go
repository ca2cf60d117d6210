package account_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

var userSeq atomic.Int64

func makeUser(t *testing.T, client *ent.Client) *ent.User {
	t.Helper()
	name := fmt.Sprintf("user%d_%d", time.Now().UnixNano(), userSeq.Add(1))
	u, err := client.User.Create().SetUsername(name).SetUsernameNormalized(name).SetDisplayName("Ada " + name).Save(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestSessionLifecycle(t *testing.T) {
	ctx := context.Background()
	st := testdb.Store(t)
	clk := &clock{t: time.Now()}
	s := account.NewSessions(st.Ent, account.SessionPolicy{Lifetime: 48 * time.Hour, Idle: time.Hour, TouchEvery: time.Minute}, clk.now)
	u := makeUser(t, st.Ent)

	token, err := s.Create(ctx, nil, u.ID, account.SessionMeta{IP: "192.0.2.1", UserAgent: "test", AuthMethods: []string{"password", "webauthn"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Lookup(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != u.ID || got.DisplayName != u.DisplayName || len(got.AuthMethods) != 2 {
		t.Fatalf("session %+v does not describe user %d", got, u.ID)
	}
	// Only the hash is stored.
	n, err := st.Ent.Session.Query().Count(ctx)
	if err != nil || n == 0 {
		t.Fatal(err)
	}
	rows, _ := st.Ent.Session.Query().All(ctx)
	for _, r := range rows {
		if string(r.TokenHash) == token {
			t.Fatal("the raw token is stored")
		}
	}

	for _, bad := range []string{"", token + "x", "forged"} {
		if _, err := s.Lookup(ctx, bad); !errors.Is(err, account.ErrSessionNotFound) {
			t.Errorf("Lookup(%q) = %v, want ErrSessionNotFound", bad, err)
		}
	}

	// Used within the idle window it stays alive, and use extends it.
	clk.t = clk.t.Add(50 * time.Minute)
	if _, err := s.Lookup(ctx, token); err != nil {
		t.Fatalf("after 50 min: %v", err)
	}
	clk.t = clk.t.Add(50 * time.Minute)
	if _, err := s.Lookup(ctx, token); err != nil {
		t.Fatalf("50 min after the last use: %v", err)
	}
	// Idle too long.
	clk.t = clk.t.Add(61 * time.Minute)
	if _, err := s.Lookup(ctx, token); !errors.Is(err, account.ErrSessionNotFound) {
		t.Fatalf("idle session: %v", err)
	}
}

func TestSessionRevokeAndInactiveUser(t *testing.T) {
	ctx := context.Background()
	st := testdb.Store(t)
	s := account.NewSessions(st.Ent, account.DefaultSessionPolicy, nil)
	u := makeUser(t, st.Ent)
	a, _ := s.Create(ctx, nil, u.ID, account.SessionMeta{})
	b, _ := s.Create(ctx, nil, u.ID, account.SessionMeta{})
	if err := s.Revoke(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(ctx, a); !errors.Is(err, account.ErrSessionNotFound) {
		t.Fatalf("revoked session found: %v", err)
	}
	if _, err := s.Lookup(ctx, b); err != nil {
		t.Fatalf("other session lost: %v", err)
	}
	if err := st.Ent.User.UpdateOneID(u.ID).SetStatus(user.StatusLocked).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(ctx, b); !errors.Is(err, account.ErrSessionNotFound) {
		t.Fatalf("session of a locked user found: %v", err)
	}
	n, err := s.RevokeAll(ctx, nil, u.ID)
	if err != nil || n != 1 {
		t.Fatalf("RevokeAll = %d, %v; want 1 live session revoked", n, err)
	}
}

func TestSessionAbsoluteLifetime(t *testing.T) {
	ctx := context.Background()
	st := testdb.Store(t)
	clk := &clock{t: time.Now()}
	s := account.NewSessions(st.Ent, account.SessionPolicy{Lifetime: 2 * time.Hour, Idle: time.Hour, TouchEvery: time.Second}, clk.now)
	u := makeUser(t, st.Ent)
	token, _ := s.Create(ctx, nil, u.ID, account.SessionMeta{})
	for i := 0; i < 3; i++ {
		clk.t = clk.t.Add(45 * time.Minute)
		_, err := s.Lookup(ctx, token)
		if i < 2 && err != nil {
			t.Fatalf("lookup %d: %v", i, err)
		}
		if i == 2 && !errors.Is(err, account.ErrSessionNotFound) {
			t.Fatalf("past the absolute lifetime: %v", err)
		}
	}
}

func TestSessionPrune(t *testing.T) {
	ctx := context.Background()
	st := testdb.Store(t)
	clk := &clock{t: time.Now()}
	s := account.NewSessions(st.Ent, account.SessionPolicy{Lifetime: 2 * time.Hour, Idle: time.Hour, TouchEvery: time.Second}, clk.now)
	u := makeUser(t, st.Ent)
	revoked, _ := s.Create(ctx, nil, u.ID, account.SessionMeta{})
	live, _ := s.Create(ctx, nil, u.ID, account.SessionMeta{})
	if err := s.Revoke(ctx, revoked); err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(30 * time.Minute)
	if _, err := s.Lookup(ctx, live); err != nil {
		t.Fatal(err)
	}
	// Keep ended sessions for 10 minutes: the one revoked 30 minutes ago
	// goes, the live one stays.
	if _, err := s.Prune(ctx, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	left, err := st.Ent.User.QuerySessions(u).Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if left != 1 {
		t.Fatalf("%d sessions left, want the live one", left)
	}
	if _, err := s.Lookup(ctx, live); err != nil {
		t.Fatalf("live session pruned: %v", err)
	}
}
