// Package ratelimit counts attempts (logins, second-factor codes, password
// resets, recovery forms) in PostgreSQL, so a limit holds across every web
// process sharing the database.
//
//	d, err := lim.Allow(ctx, ratelimit.Key("2fa", "user", id),
//		ratelimit.SecondFactor5m, ratelimit.SecondFactorHour)
//	if err == nil && !d.Allowed { /* 429, Retry-After: d.RetryAfter */ }
//
// Each call counts the attempt against every rule given, in one statement
// (an upsert per rule, atomic under concurrency), and refuses it when any
// rule is over its limit. Refused attempts count too: whoever keeps
// hammering a key keeps being refused, instead of getting a fresh allowance
// as soon as the window turns. The price is that a key kept busy by an
// attacker (a user's login) stays locked for its owner as well; per-IP
// rules and Reset after success are the callers' tools against that.
//
// The counting algorithm is described in window.go.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Limiter checks and counts attempts against rules. It keeps no state of
// its own, so any number of Limiters (and processes) may share a database.
type Limiter struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// New returns a Limiter on pool; now may be nil (time.Now). Processes
// sharing a database should have synchronised clocks: each computes its
// windows from its own.
func New(pool *pgxpool.Pool, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{pool: pool, now: now}
}

// Decision is the verdict on one attempt.
type Decision struct {
	// Allowed is true when every rule allowed the attempt.
	Allowed bool
	// RetryAfter, when refused, is how long until one more attempt would
	// be allowed if none is made meanwhile: whole seconds, at least 1 s.
	RetryAfter time.Duration
	// Rule, when refused, names the rule that imposes RetryAfter (the one
	// that keeps the key waiting longest).
	Rule string
}

// countSQL upserts the current window's counter of each rule and reads the
// previous window's, in one round trip. Rows arrive sorted by key, so
// concurrent calls lock counter rows in the same order and cannot deadlock.
//
// It commits without waiting for the WAL flush (synchronous_commit off for
// this transaction only): that makes a check about ten times cheaper (one
// fsync per attempt otherwise), and all a database crash can then lose is
// the last fraction of a second of counts. Consistency is unaffected.
const countSQL = `
WITH relaxed AS (
	SELECT set_config('synchronous_commit', 'off', true)
), input AS (
	SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[])
		WITH ORDINALITY AS i(key, window_start, prev_start, n)
), hit AS (
	INSERT INTO rate_limit_counters AS c (key, window_start, count)
	SELECT key, window_start, 1 FROM input
	ON CONFLICT (key, window_start) DO UPDATE SET count = c.count + 1
	RETURNING c.key, c.count
)
SELECT input.n, hit.count, COALESCE(prev.count, 0)
FROM input CROSS JOIN relaxed
JOIN hit ON hit.key = input.key
LEFT JOIN rate_limit_counters prev
	ON prev.key = input.key AND prev.window_start = input.prev_start`

// Allow counts one attempt for key against every rule and reports whether
// all of them allow it. The attempt is counted even when refused.
func (l *Limiter) Allow(ctx context.Context, key string, rules ...Rule) (Decision, error) {
	if err := checkArgs(key, rules); err != nil {
		return Decision{}, err
	}
	now := l.now()
	// Sorted by stored key (the rule name comes first): the lock order.
	rules = slices.SortedFunc(slices.Values(rules), func(a, b Rule) int { return strings.Compare(a.Name, b.Name) })
	keys := make([]string, len(rules))
	starts := make([]time.Time, len(rules))
	prevStarts := make([]time.Time, len(rules))
	pos := make([]position, len(rules))
	for i, r := range rules {
		pos[i] = positionAt(now, r.Window)
		keys[i], starts[i], prevStarts[i] = storedKey(r.Name, key), pos[i].start, pos[i].prevStart
	}

	got := make([]counts, len(rules))
	seen := 0
	rows, err := l.pool.Query(ctx, countSQL, keys, starts, prevStarts)
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: count %s: %w", ruleNames(rules), err)
	}
	for rows.Next() {
		var n int
		var c counts
		if err := rows.Scan(&n, &c.cur, &c.prev); err != nil {
			rows.Close()
			return Decision{}, fmt.Errorf("ratelimit: count %s: %w", ruleNames(rules), err)
		}
		got[n-1] = c
		seen++
	}
	if err := rows.Err(); err != nil {
		return Decision{}, fmt.Errorf("ratelimit: count %s: %w", ruleNames(rules), err)
	}
	if seen != len(rules) {
		return Decision{}, fmt.Errorf("ratelimit: count %s: %d counters returned, want %d", ruleNames(rules), seen, len(rules))
	}
	return decide(rules, pos, got), nil
}

// decide turns the counters into a Decision.
func decide(rules []Rule, pos []position, got []counts) Decision {
	refused := false
	var longest time.Duration
	var rule string
	for i, r := range rules {
		if !allowed(got[i], pos[i].elapsed, r.Window, r.Limit) {
			refused = true
		}
		// A rule that allowed this attempt may still be at its limit and
		// hold the next one back longer than the rule that refused.
		if w := wait(got[i], pos[i].elapsed, r.Window, r.Limit); w > longest {
			longest, rule = w, r.Name
		}
	}
	if !refused {
		return Decision{Allowed: true}
	}
	return Decision{RetryAfter: retryAfter(longest), Rule: rule}
}

func checkArgs(key string, rules []Rule) error {
	if key == "" {
		return errors.New("ratelimit: empty key")
	}
	if len(rules) == 0 {
		return errors.New("ratelimit: no rules given")
	}
	for i, r := range rules {
		if err := r.validate(); err != nil {
			return err
		}
		for _, other := range rules[:i] {
			if other.Name == r.Name {
				return fmt.Errorf("ratelimit: rule %s given twice", r.Name)
			}
		}
	}
	return nil
}

func ruleNames(rules []Rule) string {
	names := make([]string, len(rules))
	for i, r := range rules {
		names[i] = r.Name
	}
	return strings.Join(names, ",")
}
