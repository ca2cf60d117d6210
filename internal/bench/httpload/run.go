package httpload

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Scenario is what each client does again and again. Step is one
// iteration (one or more requests); an error from it is a failed check
// (a wrong answer, not a slow one) and fails the run.
type Scenario struct {
	Name string
	// Unit names what one Step does, for the throughput line ("form
	// submissions"); "" reports iterations.
	Unit string
	// Start runs once per client before the clock starts, e.g. to give it
	// a session cookie; nil skips.
	Start func(ctx context.Context, c *Client) error
	Step  func(ctx context.Context, c *Client) error
}

// Options bound a run.
type Options struct {
	// BaseURL is the site, e.g. http://127.0.0.1:8080.
	BaseURL string
	// Clients run concurrently; each is one goroutine.
	Clients int
	// Duration stops starting Steps after this long (those under way
	// finish); Iterations after this many Steps in all. The first reached
	// ends the run; one of them must be set.
	Duration   time.Duration
	Iterations int
	// Timeout bounds one request (default 30s).
	Timeout time.Duration
}

// run is the state one Run shares between its clients.
type run struct {
	id       uint32
	idString string
	base     *url.URL
	baseStr  string
	stats    *stats
}

// Run runs scenario with opts.Clients clients and reports what happened.
// It returns an error only when the run could not take place (bad
// options, a client's Start failing); 5xx answers and failed checks are
// in the Result (see Result.Err).
func Run(ctx context.Context, sc Scenario, opts Options) (*Result, error) {
	if opts.Clients < 1 {
		return nil, errors.New("httpload: need at least one client")
	}
	if opts.Duration <= 0 && opts.Iterations <= 0 {
		return nil, errors.New("httpload: set a duration or a number of iterations")
	}
	base, err := url.Parse(opts.BaseURL)
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("httpload: base URL %q is not an absolute URL", opts.BaseURL)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	var idb [4]byte
	_, _ = rand.Read(idb[:])
	r := &run{id: binary.BigEndian.Uint32(idb[:]), base: base, baseStr: strings.TrimSuffix(base.String(), "/"), stats: newStats()}
	r.idString = fmt.Sprintf("%08x", r.id)
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        opts.Clients * 2,
		MaxIdleConnsPerHost: opts.Clients * 2,
		IdleConnTimeout:     60 * time.Second,
	}
	defer transport.CloseIdleConnections()
	clients := make([]*Client, opts.Clients)
	for i := range clients {
		clients[i] = &Client{id: i, run: r, http: &http.Client{
			Transport: transport,
			Timeout:   opts.Timeout,
			// The scenarios look at redirects themselves (a login answers
			// 303), so each request is measured on its own.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}}
		if sc.Start != nil {
			if err := sc.Start(ctx, clients[i]); err != nil {
				return nil, fmt.Errorf("httpload: %s: start client %d: %w", sc.Name, i, err)
			}
		}
	}
	// Requests made by Start (warm-up, sign-in) are not part of the run.
	r.stats.reset()

	var left atomic.Int64
	left.Store(int64(opts.Iterations))
	var failures failureLog
	var wg sync.WaitGroup
	start := time.Now()
	// The duration stops new steps; steps under way finish (within
	// Timeout per request). Cutting them off would drop the slowest
	// requests from the percentiles and leave the server working on
	// requests nobody waits for while the next scenario runs.
	more := func() bool {
		return ctx.Err() == nil && (opts.Duration <= 0 || time.Since(start) < opts.Duration)
	}
	for _, c := range clients {
		wg.Go(func() {
			for more() {
				if opts.Iterations > 0 && left.Add(-1) < 0 {
					return
				}
				if err := sc.Step(ctx, c); err != nil {
					if ctx.Err() != nil {
						return
					}
					failures.add(err)
					continue
				}
				r.stats.iterations.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("httpload: %s: %w", sc.Name, err)
	}
	return r.stats.result(sc, opts.Clients, elapsed, &failures), nil
}

// failureLog counts failed checks and keeps the first few messages.
type failureLog struct {
	mu    sync.Mutex
	n     int
	first []string
}

func (f *failureLog) add(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	if len(f.first) < 5 {
		f.first = append(f.first, err.Error())
	}
}
