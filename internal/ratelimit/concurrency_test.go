package ratelimit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/recoverydesk/recoverydesk/internal/ratelimit"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// TestConcurrentProcesses fires 50 attempts at once through four pools, as
// four web processes would: exactly Limit get through.
func TestConcurrentProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newClock(t0.Add(2 * time.Minute))
	limiters := make([]*ratelimit.Limiter, 4)
	for i := range limiters {
		cfg, err := pgxpool.ParseConfig(testdb.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		cfg.MaxConns = 4
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		limiters[i] = ratelimit.New(pool, clk.Now)
	}

	run := func(t *testing.T, key string, orders [][]ratelimit.Rule) (allowed int) {
		start := make(chan struct{})
		results := make(chan error, 50)
		var mu sync.Mutex
		for i := range 50 {
			go func() {
				<-start
				d, err := limiters[i%len(limiters)].Allow(ctx, key, orders[i%len(orders)]...)
				if err == nil && d.Allowed {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
				results <- err
			}()
		}
		close(start)
		for range 50 {
			if err := <-results; err != nil {
				t.Error(err)
			}
		}
		return allowed
	}

	t.Run("one rule", func(t *testing.T) {
		if got := run(t, uniqueKey(t), [][]ratelimit.Rule{{tenPer5m}}); got != tenPer5m.Limit {
			t.Errorf("%d of 50 allowed, want exactly %d", got, tenPer5m.Limit)
		}
	})
	// Rules given in either order lock rows in one order: no deadlock.
	t.Run("two rules", func(t *testing.T) {
		key := uniqueKey(t)
		orders := [][]ratelimit.Rule{
			{ratelimit.SecondFactor5m, ratelimit.SecondFactorHour},
			{ratelimit.SecondFactorHour, ratelimit.SecondFactor5m},
		}
		if got := run(t, key, orders); got != ratelimit.SecondFactor5m.Limit {
			t.Errorf("%d of 50 allowed, want exactly %d", got, ratelimit.SecondFactor5m.Limit)
		}
		pool := testdb.Store(t).Pool
		if n := storedCount(t, pool, ratelimit.SecondFactorHour, key, t0); n != 50 {
			t.Errorf("hourly counter = %d, want 50", n)
		}
	})
}
