package ratelimit

import (
	"math"
	"time"
)

// The algorithm is a sliding window approximated from two fixed windows: a
// rule's windows are aligned to the Unix epoch, each (rule, key, window)
// has one counter row, and an attempt at fraction f of the current window
// is judged by
//
//	estimate = current + previous × (1 − f)
//
// where current already includes this attempt. It is allowed when
// estimate ≤ Limit. Plain fixed windows would let a burst of Limit just
// before a boundary be followed by another Limit just after it (2×Limit in
// seconds, and the boundary is the same for every key); here the previous
// window still weighs in after the boundary, so any span of one Window
// allows at most Limit × (1 + f) < 2×Limit attempts, and steady traffic is
// judged as a true sliding window would. It costs the same as fixed windows:
// two rows per key and rule, read and written by one statement.

// slack absorbs float rounding in estimate ≤ Limit, so an attempt exactly
// at RetryAfter is not refused by a rounding error.
const slack = 1e-6

// position is where an instant falls among a rule's windows.
type position struct {
	start, prevStart time.Time
	elapsed          time.Duration // since start
}

func positionAt(now time.Time, window time.Duration) position {
	us, w := now.UnixMicro(), window.Microseconds()
	start := us / w * w
	if start > us { // before 1970: division truncated towards zero
		start -= w
	}
	s := time.UnixMicro(start).UTC()
	return position{start: s, prevStart: s.Add(-window), elapsed: time.Duration(us-start) * time.Microsecond}
}

// counts are a rule's counters for a key, this attempt included in cur.
type counts struct {
	cur, prev int64
}

// allowed reports whether the estimate is within limit.
func allowed(c counts, elapsed, window time.Duration, limit int) bool {
	f := float64(elapsed) / float64(window)
	return float64(c.cur)+float64(c.prev)*(1-f) <= float64(limit)+slack
}

// wait is how long from now until one more attempt would be allowed,
// assuming none is made meanwhile: 0 when it would be allowed now. The
// estimate only falls as time passes (at a boundary, current becomes
// previous with full weight), so the earliest such time is found directly.
// It is rounded to the nearest nanosecond, not up: float error must not
// turn an exact 400 s into 401 s once rounded up to seconds, and slack
// covers the sub-nanosecond rest.
func wait(c counts, elapsed, window time.Duration, limit int) time.Duration {
	f := float64(elapsed) / float64(window)
	w := float64(window)
	next := float64(c.cur + 1)
	if next <= float64(limit) {
		// Still possible in this window, once previous has decayed enough:
		// next + prev × (1 − f') ≤ limit.
		if next+float64(c.prev)*(1-f) <= float64(limit)+slack {
			return 0
		}
		need := 1 - (float64(limit)-next)/float64(c.prev)
		return time.Duration(math.Round((need - f) * w))
	}
	// Only in the next window, at fraction g: 1 + cur × (1 − g) ≤ limit.
	// With Limit 1 that is g = 1, the start of the window after it.
	g := 1 - float64(limit-1)/float64(c.cur)
	return time.Duration(math.Round((1 - f + g) * w))
}

// retryAfter rounds a wait up to whole seconds, at least one.
func retryAfter(d time.Duration) time.Duration {
	s := time.Duration(math.Ceil(d.Seconds())) * time.Second
	return max(s, time.Second)
}
