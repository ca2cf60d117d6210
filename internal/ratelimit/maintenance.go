package ratelimit

import (
	"context"
	"fmt"
	"time"
)

// Reset forgets key's counters under the given rules, e.g. LoginPerUser
// after a successful login, so earlier typos do not count against the
// owner. Reset only per-account keys: resetting a per-IP key on success
// would let an attacker holding one valid account reset their own limit.
// The rules are required so the delete is an index lookup rather than a
// scan of every key.
func (l *Limiter) Reset(ctx context.Context, key string, rules ...Rule) error {
	if err := checkArgs(key, rules); err != nil {
		return err
	}
	keys := make([]string, len(rules))
	for i, r := range rules {
		keys[i] = storedKey(r.Name, key)
	}
	if _, err := l.pool.Exec(ctx, `DELETE FROM rate_limit_counters WHERE key = ANY($1)`, keys); err != nil {
		return fmt.Errorf("ratelimit: reset %s: %w", ruleNames(rules), err)
	}
	return nil
}

// Prune deletes counters of windows that started more than olderThan ago
// and returns how many it deleted; for a periodic job. olderThan must be
// at least twice the longest Window in use (Retention for this package's
// rules), since a window's counter is read until the next window ends;
// pruning sooner would loosen the limits.
func (l *Limiter) Prune(ctx context.Context, olderThan time.Duration) (int64, error) {
	if olderThan <= 0 {
		return 0, fmt.Errorf("ratelimit: prune: olderThan %v must be positive", olderThan)
	}
	tag, err := l.pool.Exec(ctx, `DELETE FROM rate_limit_counters WHERE window_start < $1`, l.now().Add(-olderThan))
	if err != nil {
		return 0, fmt.Errorf("ratelimit: prune: %w", err)
	}
	return tag.RowsAffected(), nil
}
