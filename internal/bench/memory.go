package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Memory watches the process's memory while a benchmark runs: the peak
// Go heap (sampled) and the peak resident set the kernel recorded.
type Memory struct {
	stop     context.CancelFunc
	wg       sync.WaitGroup
	peakHeap uint64
}

// heapObjects is the runtime metric both LiveHeap and WatchMemory read:
// bytes in heap objects, garbage not yet collected included.
const heapObjects = "/memory/classes/heap/objects:bytes"

// LiveHeap is the heap in use now (heapObjects).
func LiveHeap() uint64 {
	s := []metrics.Sample{{Name: heapObjects}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// WatchMemory samples the live Go heap every interval until Stop.
func WatchMemory(ctx context.Context, interval time.Duration) *Memory {
	ctx, cancel := context.WithCancel(ctx)
	m := &Memory{stop: cancel}
	sample := []metrics.Sample{{Name: heapObjects}}
	read := func() {
		metrics.Read(sample)
		if v := sample[0].Value; v.Kind() == metrics.KindUint64 && v.Uint64() > m.peakHeap {
			m.peakHeap = v.Uint64()
		}
	}
	m.wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			read()
			select {
			case <-ctx.Done():
				read()
				return
			case <-t.C:
			}
		}
	})
	return m
}

// MemoryReport is what Stop found.
type MemoryReport struct {
	PeakHeap uint64 // bytes of live and unswept heap objects, sampled
	PeakRSS  uint64 // VmHWM: the kernel's high-water mark of resident memory
}

// Stop ends sampling and reports the peaks.
func (m *Memory) Stop() MemoryReport {
	m.stop()
	m.wg.Wait()
	rss, _ := peakRSS()
	return MemoryReport{PeakHeap: m.peakHeap, PeakRSS: rss}
}

func (r MemoryReport) String() string {
	return fmt.Sprintf("peak heap %s, peak RSS %s", MiB(r.PeakHeap), MiB(r.PeakRSS))
}

// MiB formats a byte count.
func MiB(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// peakRSS reads VmHWM from /proc/self/status (Linux).
func peakRSS() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("bench: no VmHWM in /proc/self/status")
}
