package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/recoverydesk/recoverydesk/internal/ratelimit"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

func TestReset(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.Store(t)
	l := ratelimit.New(st.Pool, newClock(t0).Now)
	key := uniqueKey(t)
	for range 11 {
		allow(t, l, key, ratelimit.LoginPerUser)
		allow(t, l, key, tenPer5m)
	}
	if err := l.Reset(ctx, key, ratelimit.LoginPerUser); err != nil {
		t.Fatal(err)
	}
	if d := allow(t, l, key, ratelimit.LoginPerUser); !d.Allowed {
		t.Errorf("after Reset: %+v, want allowed", d)
	}
	// Only the rules named are reset.
	if d := allow(t, l, key, tenPer5m); d.Allowed {
		t.Error("another rule's counter was reset too")
	}
	if err := l.Reset(ctx, key); err == nil {
		t.Error("Reset without rules accepted")
	}
}

// TestPrune works in 2001, before every other test's counters (from
// 2030), so it can count exactly what it deletes.
func TestPrune(t *testing.T) {
	ctx := context.Background()
	st := testdb.Store(t)
	base := time.Date(2001, 3, 4, 0, 0, 0, 0, time.UTC)
	clk := newClock(base)
	l := ratelimit.New(st.Pool, clk.Now)
	old, kept, current := uniqueKey(t, "old"), uniqueKey(t, "kept"), uniqueKey(t, "current")
	allow(t, l, old, tenPer5m)
	allow(t, l, old, tenPer5m)
	clk.Set(base.Add(2 * time.Hour))
	allow(t, l, kept, tenPer5m)
	clk.Set(base.Add(3 * time.Hour))
	allow(t, l, current, tenPer5m)

	if _, err := l.Prune(ctx, 0); err == nil {
		t.Error("Prune(0) accepted")
	}
	n, err := l.Prune(ctx, 90*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("Prune deleted %d rows, want 1", n)
	}
	if c := storedCount(t, st.Pool, tenPer5m, old, base); c != -1 {
		t.Errorf("old counter still there (%d)", c)
	}
	if c := storedCount(t, st.Pool, tenPer5m, kept, base.Add(2*time.Hour)); c != 1 {
		t.Errorf("counter within olderThan = %d, want 1", c)
	}
	if c := storedCount(t, st.Pool, tenPer5m, current, base.Add(3*time.Hour)); c != 1 {
		t.Errorf("current counter = %d, want 1", c)
	}
}

func TestAllowRejectsBadArguments(t *testing.T) {
	t.Parallel()
	l := ratelimit.New(testdb.Store(t).Pool, nil)
	ctx := context.Background()
	cases := map[string]func() error{
		"empty key": func() error { _, err := l.Allow(ctx, "", tenPer5m); return err },
		"no rules":  func() error { _, err := l.Allow(ctx, "k"); return err },
		"bad rule": func() error {
			_, err := l.Allow(ctx, "k", ratelimit.Rule{Name: "x", Limit: 0, Window: time.Minute})
			return err
		},
		"rule twice": func() error { _, err := l.Allow(ctx, "k", tenPer5m, tenPer5m); return err },
	}
	for name, call := range cases {
		if err := call(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLongKeysAreStoredHashed(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	l := ratelimit.New(st.Pool, newClock(t0).Now)
	long := uniqueKey(t) + string(make([]byte, 10000))
	for range 10 {
		allow(t, l, long, tenPer5m)
	}
	if d := allow(t, l, long, tenPer5m); d.Allowed {
		t.Error("11th attempt on a long key allowed")
	}
	if d := allow(t, l, long+"x", tenPer5m); !d.Allowed {
		t.Error("a different long key shares the counter")
	}
}

// TestAllowRelaxesOnlyItsOwnCommit checks that the synchronous_commit
// setting Allow uses ends with its transaction: the pooled connection, used
// next by someone else, keeps durable commits.
func TestAllowRelaxesOnlyItsOwnCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1 // so the next query runs on the same connection
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var before, after string
	if err := pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	allow(t, ratelimit.New(pool, newClock(t0).Now), uniqueKey(t), tenPer5m)
	if err := pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("synchronous_commit after Allow = %q, want %q as before", after, before)
	}
}
