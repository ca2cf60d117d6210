package ratelimit_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/internal/ratelimit"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// BenchmarkAllow measures one Allow (one rule) from parallel goroutines:
// each on its own key (the usual case: many users), and all on one key
// (an attack on one account, where the counter row is contended).
func BenchmarkAllow(b *testing.B) {
	l := ratelimit.New(testdb.Store(b).Pool, nil)
	rule := ratelimit.Rule{Name: "bench", Limit: 10, Window: time.Minute}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	b.Run("distinct-keys", func(b *testing.B) {
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			key := ratelimit.Key("bench", run, strconv.FormatInt(next.Add(1), 10))
			for pb.Next() {
				if _, err := l.Allow(context.Background(), key, rule); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("same-key", func(b *testing.B) {
		key := ratelimit.Key("bench", run, "hot")
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := l.Allow(context.Background(), key, rule); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
