package ratelimit

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestPositionAt(t *testing.T) {
	tests := []struct {
		now     time.Time
		window  time.Duration
		start   time.Time
		elapsed time.Duration
	}{
		{time.Date(2030, 1, 1, 10, 7, 30, 0, time.UTC), 5 * time.Minute, time.Date(2030, 1, 1, 10, 5, 0, 0, time.UTC), 150 * time.Second},
		{time.Date(2030, 1, 1, 10, 5, 0, 0, time.UTC), 5 * time.Minute, time.Date(2030, 1, 1, 10, 5, 0, 0, time.UTC), 0},
		{time.Date(2030, 1, 1, 23, 59, 59, 0, time.UTC), 24 * time.Hour, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), 24*time.Hour - time.Second},
		// Other zones land on the same UTC-aligned windows.
		{time.Date(2030, 1, 1, 12, 30, 0, 0, time.FixedZone("X", 5*3600+1800)), time.Hour, time.Date(2030, 1, 1, 7, 0, 0, 0, time.UTC), 0},
		// Before 1970 the window still starts at or before now.
		{time.Date(1969, 12, 31, 23, 58, 0, 0, time.UTC), 5 * time.Minute, time.Date(1969, 12, 31, 23, 55, 0, 0, time.UTC), 3 * time.Minute},
	}
	for _, tt := range tests {
		p := positionAt(tt.now, tt.window)
		if !p.start.Equal(tt.start) || p.elapsed != tt.elapsed || !p.prevStart.Equal(tt.start.Add(-tt.window)) {
			t.Errorf("positionAt(%v, %v) = %+v, want start %v elapsed %v", tt.now, tt.window, p, tt.start, tt.elapsed)
		}
	}
}

// later is the counters a rule would see for one more attempt made d after
// an instant at elapsed into the current window, with no attempt between.
func later(c counts, elapsed, d, window time.Duration) (counts, time.Duration) {
	at := elapsed + d
	switch {
	case at < window:
		return counts{cur: c.cur + 1, prev: c.prev}, at
	case at < 2*window:
		return counts{cur: 1, prev: c.cur}, at - window
	default:
		return counts{cur: 1}, at % window
	}
}

// TestWaitIsTheEarliestAllowedInstant checks wait against the rule it
// predicts: one more attempt after wait is allowed, and one made a little
// sooner is not.
func TestWaitIsTheEarliestAllowedInstant(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	windows := []time.Duration{time.Minute, 5 * time.Minute, time.Hour, 24 * time.Hour}
	for range 20000 {
		window := windows[r.IntN(len(windows))]
		limit := 1 + r.IntN(12)
		c := counts{cur: 1 + r.Int64N(40), prev: r.Int64N(40)}
		elapsed := time.Duration(r.Int64N(int64(window)))
		w := wait(c, elapsed, window, limit)
		if w < 0 || w > 2*window {
			t.Fatalf("wait(%+v, %v, %v, %d) = %v, out of range", c, elapsed, window, limit, w)
		}
		if nc, ne := later(c, elapsed, w, window); !allowed(nc, ne, window, limit) {
			t.Fatalf("wait(%+v, %v, %v, %d) = %v, but the attempt then is refused (%+v at %v)", c, elapsed, window, limit, w, nc, ne)
		}
		if w == 0 {
			continue
		}
		// Sooner by more than what float slack can move the threshold.
		early := w - window/1000
		if early < 0 {
			continue
		}
		if nc, ne := later(c, elapsed, early, window); allowed(nc, ne, window, limit) {
			t.Fatalf("wait(%+v, %v, %v, %d) = %v, but %v earlier is allowed", c, elapsed, window, limit, w, window/1000)
		}
	}
}

func TestRetryAfterRoundsUpToWholeSeconds(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{
		time.Nanosecond:                        time.Second,
		0:                                      time.Second,
		time.Second:                            time.Second,
		time.Second + time.Nanosecond:          2 * time.Second,
		294*time.Second + 545*time.Millisecond: 295 * time.Second,
	} {
		if got := retryAfter(in); got != want {
			t.Errorf("retryAfter(%v) = %v, want %v", in, got, want)
		}
	}
}
