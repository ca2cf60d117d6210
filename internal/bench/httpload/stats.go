package httpload

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recoverydesk/recoverydesk/internal/bench"
)

// stats collects what the clients of one run measured, per label.
type stats struct {
	mu         sync.Mutex
	labels     map[string]*labelStats
	order      []string
	iterations atomic.Int64
	// all and allServer hold every label's latencies too.
	all, allServer *bench.Latencies
}

type labelStats struct {
	client, server bench.Latencies
	status         map[int]int
	transport      int
}

func newStats() *stats {
	return &stats{labels: map[string]*labelStats{}, all: &bench.Latencies{}, allServer: &bench.Latencies{}}
}

func (s *stats) label(name string) *labelStats {
	l := s.labels[name]
	if l == nil {
		l = &labelStats{status: map[int]int{}}
		s.labels[name] = l
		s.order = append(s.order, name)
	}
	return l
}

func (s *stats) record(label string, status int, client, server time.Duration, hasServer bool) {
	s.mu.Lock()
	l := s.label(label)
	l.status[status]++
	all, allServer := s.all, s.allServer
	s.mu.Unlock()
	l.client.Add(client)
	all.Add(client)
	if hasServer {
		l.server.Add(server)
		allServer.Add(server)
	}
}

func (s *stats) transportError(label string) {
	s.mu.Lock()
	s.label(label).transport++
	s.mu.Unlock()
}

func (s *stats) reset() {
	s.mu.Lock()
	s.labels, s.order = map[string]*labelStats{}, nil
	s.all, s.allServer = &bench.Latencies{}, &bench.Latencies{}
	s.mu.Unlock()
	s.iterations.Store(0)
}

// Result is what one scenario's run measured.
type Result struct {
	Scenario, Unit string
	Clients        int
	Elapsed        time.Duration
	// Iterations is how many Steps completed without a failed check.
	Iterations int
	// Requests counts answered requests; Status by status code.
	Requests int
	Status   map[int]int
	// TransportErrors are requests that got no answer (refused, reset,
	// timed out).
	TransportErrors int
	// Failures are Steps whose check failed; FailureSamples the first
	// few messages.
	Failures       int
	FailureSamples []string
	// Client is the latency every request took as the client saw it;
	// Server as the site reported it in Server-Timing (Count 0 when the
	// site sends none).
	Client, Server bench.Summary
	// Labels break the numbers down by request kind, in the order first
	// seen.
	Labels []LabelResult
}

// LabelResult is one kind of request of a scenario.
type LabelResult struct {
	Label          string
	Status         map[int]int
	Client, Server bench.Summary
}

func (s *stats) result(sc Scenario, clients int, elapsed time.Duration, f *failureLog) *Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	res := &Result{Scenario: sc.Name, Unit: sc.Unit, Clients: clients, Elapsed: elapsed, Iterations: int(s.iterations.Load()), Status: map[int]int{}}
	for _, name := range s.order {
		l := s.labels[name]
		lr := LabelResult{Label: name, Status: maps.Clone(l.status), Client: l.client.Summary(), Server: l.server.Summary()}
		res.Labels = append(res.Labels, lr)
		for code, n := range l.status {
			res.Status[code] += n
			res.Requests += n
		}
		res.TransportErrors += l.transport
	}
	res.Client, res.Server = s.all.Summary(), s.allServer.Summary()
	f.mu.Lock()
	res.Failures, res.FailureSamples = f.n, slices.Clone(f.first)
	f.mu.Unlock()
	return res
}

// ServerErrors counts 5xx answers.
func (r *Result) ServerErrors() int {
	n := 0
	for code, c := range r.Status {
		if code >= 500 {
			n += c
		}
	}
	return n
}

// Err is non-nil when the run must count as failed: a 5xx answer, a
// request without answer, or a failed check.
func (r *Result) Err() error {
	var why []string
	if n := r.ServerErrors(); n > 0 {
		why = append(why, fmt.Sprintf("%d answers with status 5xx", n))
	}
	if r.TransportErrors > 0 {
		why = append(why, fmt.Sprintf("%d requests without answer", r.TransportErrors))
	}
	if r.Failures > 0 {
		why = append(why, fmt.Sprintf("%d failed checks (first: %s)", r.Failures, strings.Join(r.FailureSamples, "; ")))
	}
	if len(why) == 0 {
		return nil
	}
	return fmt.Errorf("httpload: %s failed: %s", r.Scenario, strings.Join(why, ", "))
}

// PerSecond is rate of n over the run's elapsed time.
func (r *Result) PerSecond(n int) float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(n) / r.Elapsed.Seconds()
}

// Print writes the human-readable report and then one machine-readable
// line starting with "bench-http " (key=value, durations in ms).
func (r *Result) Print(w io.Writer) {
	unit := r.Unit
	if unit == "" {
		unit = "iterations"
	}
	fmt.Fprintf(w, "%s: %d clients, %s\n", r.Scenario, r.Clients, r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "  %d requests, %.1f req/s; %d %s, %.1f/s\n", r.Requests, r.PerSecond(r.Requests), r.Iterations, unit, r.PerSecond(r.Iterations))
	fmt.Fprintf(w, "  %-22s %s  status %s\n", "all (client)", r.Client, statusString(r.Status))
	if r.Server.Count > 0 {
		fmt.Fprintf(w, "  %-22s %s\n", "all (server)", r.Server)
	}
	for _, l := range r.Labels {
		fmt.Fprintf(w, "  %-22s %s  status %s\n", l.Label+" (client)", l.Client, statusString(l.Status))
		if l.Server.Count > 0 {
			fmt.Fprintf(w, "  %-22s %s\n", l.Label+" (server)", l.Server)
		}
	}
	if r.TransportErrors > 0 || r.Failures > 0 {
		fmt.Fprintf(w, "  %d requests without answer, %d failed checks\n", r.TransportErrors, r.Failures)
		for _, s := range r.FailureSamples {
			fmt.Fprintf(w, "    %s\n", s)
		}
	}
	fmt.Fprintf(w, "bench-http scenario=%s clients=%d seconds=%.2f requests=%d rps=%.1f iterations=%d ips=%.1f p50_ms=%s p90_ms=%s p99_ms=%s max_ms=%s server_p50_ms=%s server_p99_ms=%s status=%s no_answer=%d failed_checks=%d\n",
		r.Scenario, r.Clients, r.Elapsed.Seconds(), r.Requests, r.PerSecond(r.Requests), r.Iterations, r.PerSecond(r.Iterations),
		ms(r.Client.P50), ms(r.Client.P90), ms(r.Client.P99), ms(r.Client.Max), serverMS(r.Server, r.Server.P50), serverMS(r.Server, r.Server.P99),
		strings.ReplaceAll(statusString(r.Status), " ", ","), r.TransportErrors, r.Failures)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

func serverMS(s bench.Summary, d time.Duration) string {
	if s.Count == 0 {
		return "-"
	}
	return ms(d)
}

func statusString(m map[int]int) string {
	if len(m) == 0 {
		return "none"
	}
	codes := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%d=%d", c, m[c])
	}
	return strings.Join(parts, " ")
}
