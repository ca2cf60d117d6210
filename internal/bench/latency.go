package bench

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Latencies collects durations from many goroutines and summarises them.
type Latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

// Add records one duration.
func (l *Latencies) Add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// Summary is a latency distribution.
type Summary struct {
	Count              int
	P50, P90, P99, Max time.Duration
}

// Summary sorts what was recorded and reads the percentiles (nearest rank).
func (l *Latencies) Summary() Summary {
	l.mu.Lock()
	d := slices.Clone(l.d)
	l.mu.Unlock()
	if len(d) == 0 {
		return Summary{}
	}
	slices.Sort(d)
	at := func(p float64) time.Duration {
		i := int(p*float64(len(d))+0.999999) - 1
		return d[max(0, min(i, len(d)-1))]
	}
	return Summary{Count: len(d), P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: d[len(d)-1]}
}

func (s Summary) String() string {
	return fmt.Sprintf("n=%d p50=%s p90=%s p99=%s max=%s", s.Count, round(s.P50), round(s.P90), round(s.P99), round(s.Max))
}

// round keeps three significant figures or so, for readable output.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}
