package bench

import (
	"testing"
	"time"
)

func TestLatencyPercentiles(t *testing.T) {
	var l Latencies
	for i := 100; i >= 1; i-- {
		l.Add(time.Duration(i) * time.Millisecond)
	}
	s := l.Summary()
	if s.Count != 100 || s.P50 != 50*time.Millisecond || s.P90 != 90*time.Millisecond || s.P99 != 99*time.Millisecond || s.Max != 100*time.Millisecond {
		t.Fatalf("summary = %+v", s)
	}
	if (&Latencies{}).Summary() != (Summary{}) {
		t.Fatal("empty summary not zero")
	}
}

func TestMemoryReportsPeaks(t *testing.T) {
	m := WatchMemory(t.Context(), time.Millisecond)
	big := make([]byte, 64<<20)
	for i := range big {
		big[i] = byte(i)
	}
	r := m.Stop()
	if r.PeakHeap < 64<<20 || r.PeakRSS < 64<<20 {
		t.Fatalf("report %v misses a 64 MiB allocation", r)
	}
	_ = big[len(big)-1]
}
