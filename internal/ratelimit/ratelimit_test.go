package ratelimit_test

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/recoverydesk/recoverydesk/internal/ratelimit"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// t0 starts a day, so it starts a window of every rule. Tests run at or
// after it; TestPrune works in 2001 and so never sees their counters.
var t0 = time.Date(2030, 1, 7, 0, 0, 0, 0, time.UTC)

// clock is a settable test clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// uniqueKey keeps parallel tests (sharing one database) apart.
func uniqueKey(t testing.TB, parts ...string) string {
	return ratelimit.Key(append([]string{t.Name(), strconv.FormatInt(time.Now().UnixNano(), 36)}, parts...)...)
}

func allow(t testing.TB, l *ratelimit.Limiter, key string, rules ...ratelimit.Rule) ratelimit.Decision {
	t.Helper()
	d, err := l.Allow(context.Background(), key, rules...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// storedCount reads a counter row directly; -1 when there is none.
func storedCount(t testing.TB, pool *pgxpool.Pool, rule ratelimit.Rule, key string, windowStart time.Time) int64 {
	t.Helper()
	var n int64
	err := pool.QueryRow(context.Background(),
		`SELECT COALESCE((SELECT count FROM rate_limit_counters WHERE key = $1 AND window_start = $2), -1)`,
		rule.Name+"|"+key, windowStart).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var tenPer5m = ratelimit.Rule{Name: "test-10-5m", Limit: 10, Window: 5 * time.Minute}

func TestAllowsExactlyLimitThenRefuses(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	clk := newClock(t0.Add(time.Minute))
	l := ratelimit.New(st.Pool, clk.Now)
	key := uniqueKey(t)

	for i := range 10 {
		if d := allow(t, l, key, tenPer5m); !d.Allowed || d.RetryAfter != 0 || d.Rule != "" {
			t.Fatalf("attempt %d: %+v, want allowed", i+1, d)
		}
	}
	d := allow(t, l, key, tenPer5m)
	// 11 counted at 1 minute into the window: the next attempt passes once
	// 1 + 11 × (1 − g) ≤ 10 in the next window, g = 2/11, i.e. after
	// 4 min + 54.5 s, rounded up.
	if d.Allowed || d.Rule != tenPer5m.Name || d.RetryAfter != 295*time.Second {
		t.Fatalf("11th attempt: %+v, want refused by %s, retry after 295s", d, tenPer5m.Name)
	}
	// Refused attempts count: hammering pushes the retry further out.
	d2 := allow(t, l, key, tenPer5m)
	if d2.Allowed || d2.RetryAfter <= d.RetryAfter {
		t.Fatalf("12th attempt: %+v, want refused with a later retry than %v", d2, d.RetryAfter)
	}
	if n := storedCount(t, st.Pool, tenPer5m, key, t0); n != 12 {
		t.Errorf("counter = %d, want 12 (refused attempts count)", n)
	}

	// Still refused just after the boundary: the full previous window weighs.
	clk.Set(t0.Add(5 * time.Minute))
	if d := allow(t, l, key, tenPer5m); d.Allowed {
		t.Fatalf("at the next window's start: %+v, want refused", d)
	}
	// Once the window after that one (holding the attempt just made) is
	// past too, nothing weighs: a fresh allowance of exactly 10.
	clk.Set(t0.Add(15 * time.Minute))
	for i := range 10 {
		if d := allow(t, l, key, tenPer5m); !d.Allowed {
			t.Fatalf("after the windows passed, attempt %d: %+v, want allowed", i+1, d)
		}
	}
	if d := allow(t, l, key, tenPer5m); d.Allowed {
		t.Fatalf("11th attempt of the new window: %+v, want refused", d)
	}
}

func TestRetryAfterIsWhenTheNextAttemptPasses(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	clk := newClock(t0.Add(37 * time.Second))
	l := ratelimit.New(st.Pool, clk.Now)
	// Two keys with the same history: one probes a second early (which
	// counts, so it cannot be reused), the other exactly on time.
	early, onTime := uniqueKey(t, "early"), uniqueKey(t, "on-time")
	var d ratelimit.Decision
	for range 13 {
		allow(t, l, early, tenPer5m)
		d = allow(t, l, onTime, tenPer5m)
	}
	if d.Allowed || d.RetryAfter < time.Second || d.RetryAfter > 2*tenPer5m.Window {
		t.Fatalf("13th attempt: %+v, want refused with a retry within two windows", d)
	}
	start := clk.Now()
	clk.Set(start.Add(d.RetryAfter - time.Second))
	if got := allow(t, l, early, tenPer5m); got.Allowed {
		t.Errorf("a second before RetryAfter (%v): allowed, want refused", d.RetryAfter)
	}
	clk.Set(start.Add(d.RetryAfter))
	if got := allow(t, l, onTime, tenPer5m); !got.Allowed {
		t.Errorf("at RetryAfter (%v): %+v, want allowed", d.RetryAfter, got)
	}
}

// TestNeverTwiceTheLimitInAWindow drives one key with bursts timed at
// window boundaries and random gaps and checks every span of one window:
// fixed windows would allow 2×Limit around a boundary; this must not.
func TestNeverTwiceTheLimitInAWindow(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	clk := newClock(t0)
	l := ratelimit.New(st.Pool, clk.Now)
	key := uniqueKey(t)
	w := tenPer5m.Window

	var allowedAt []time.Time
	try := func() {
		if allow(t, l, key, tenPer5m).Allowed {
			allowedAt = append(allowedAt, clk.Now())
		}
	}
	// The classic boundary attack: a burst just before the boundary, then
	// one just after it, then attempts every 10 s through the window.
	clk.Set(t0.Add(w - time.Second))
	for range 10 {
		try()
	}
	clk.Set(t0.Add(w))
	burst := len(allowedAt)
	for range 10 {
		try()
	}
	if got := len(allowedAt) - burst; got != 0 {
		t.Errorf("burst right after the boundary: %d allowed, want 0", got)
	}
	for range 30 {
		clk.Add(10 * time.Second)
		try()
	}
	// Then random gaps, from hammering to waiting most of a window.
	r := rand.New(rand.NewPCG(3, 4))
	gaps := []time.Duration{0, time.Second, 10 * time.Second, time.Minute, w - time.Second, w}
	for range 500 {
		clk.Add(gaps[r.IntN(len(gaps))])
		try()
	}

	most := 0
	for i, start := range allowedAt {
		n := 0
		for _, at := range allowedAt[i:] {
			if at.Sub(start) < w {
				n++
			}
		}
		most = max(most, n)
	}
	t.Logf("%d attempts allowed; at most %d within one window (limit %d)", len(allowedAt), most, tenPer5m.Limit)
	if most >= 2*tenPer5m.Limit {
		t.Errorf("%d attempts allowed within one window, want fewer than %d", most, 2*tenPer5m.Limit)
	}
	if most < tenPer5m.Limit {
		t.Errorf("at most %d allowed within a window, want the limit %d reached", most, tenPer5m.Limit)
	}
}

func TestTwoRulesHourlyBitesAfterFourWindows(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	clk := newClock(t0)
	l := ratelimit.New(st.Pool, clk.Now)
	key := uniqueKey(t)
	rules := []ratelimit.Rule{ratelimit.SecondFactor5m, ratelimit.SecondFactorHour}

	// Four bursts of 5, each in a 5-minute window after a quiet one (so the
	// previous window weighs nothing): 20 in the hour, all allowed.
	for burst := range 4 {
		clk.Set(t0.Add(time.Duration(burst) * 10 * time.Minute))
		for i := range 5 {
			if d := allow(t, l, key, rules...); !d.Allowed {
				t.Fatalf("burst %d, attempt %d: %+v, want allowed", burst+1, i+1, d)
			}
		}
	}
	// At 40 minutes the 5-minute rule would allow, the hourly one refuses:
	// 1 + 21 × (1 − g) ≤ 20 at g = 2/21 of the next hour, 25 min 42.9 s on.
	clk.Set(t0.Add(40 * time.Minute))
	d := allow(t, l, key, rules...)
	if d.Allowed || d.Rule != ratelimit.SecondFactorHour.Name || d.RetryAfter != 1543*time.Second {
		t.Fatalf("21st attempt in the hour: %+v, want refused by %s, retry after 1543s", d, ratelimit.SecondFactorHour.Name)
	}
	// The refused attempt counted against both rules.
	if n := storedCount(t, st.Pool, ratelimit.SecondFactor5m, key, t0.Add(40*time.Minute)); n != 1 {
		t.Errorf("5-minute counter = %d, want 1", n)
	}
	if n := storedCount(t, st.Pool, ratelimit.SecondFactorHour, key, t0); n != 21 {
		t.Errorf("hourly counter = %d, want 21", n)
	}
}

func TestTwoRulesShortOneBitesFirst(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	l := ratelimit.New(st.Pool, newClock(t0).Now)
	key := uniqueKey(t)
	for range 5 {
		allow(t, l, key, ratelimit.SecondFactorHour, ratelimit.SecondFactor5m)
	}
	// 1 + 6 × (1 − g) ≤ 5 at g = 1/3 of the next window: 400 s.
	d := allow(t, l, key, ratelimit.SecondFactorHour, ratelimit.SecondFactor5m)
	if d.Allowed || d.Rule != ratelimit.SecondFactor5m.Name || d.RetryAfter != 400*time.Second {
		t.Fatalf("6th attempt: %+v, want refused by %s, retry after 400s", d, ratelimit.SecondFactor5m.Name)
	}
}

func TestKeysAndRulesAreIndependent(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	l := ratelimit.New(st.Pool, newClock(t0).Now)
	a, b := uniqueKey(t, "a"), uniqueKey(t, "b")
	for range 11 {
		allow(t, l, a, ratelimit.LoginPerUser)
	}
	if d := allow(t, l, a, ratelimit.LoginPerUser); d.Allowed {
		t.Fatal("key a not exhausted")
	}
	if d := allow(t, l, b, ratelimit.LoginPerUser); !d.Allowed {
		t.Errorf("key b: %+v, want allowed (a's attempts do not count)", d)
	}
	// The same key string under another rule has its own counter.
	if d := allow(t, l, a, ratelimit.LoginPerIP); !d.Allowed {
		t.Errorf("key a under %s: %+v, want allowed", ratelimit.LoginPerIP.Name, d)
	}
	// Key lower-cases, so case variants share a counter.
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	for range 10 {
		allow(t, l, ratelimit.Key(t.Name(), "Alice@Example.ORG", suffix), tenPer5m)
	}
	if d := allow(t, l, ratelimit.Key(t.Name(), "alice@example.org", suffix), tenPer5m); d.Allowed {
		t.Error("lower-case variant of an exhausted key allowed")
	}
}
