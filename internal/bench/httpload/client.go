package httpload

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client is one simulated client. It is used by one goroutine at a time.
// Each visitor it plays has its own cookies and its own client address,
// sent in X-Forwarded-For: that is how a site behind a reverse proxy sees
// its clients, and it keeps the per-address rate limits from treating the
// whole benchmark as one person.
type Client struct {
	id      int
	run     *run
	http    *http.Client
	visits  int
	addr    string
	lastErr error
}

// Response is what a request answered; the body is read in full.
type Response struct {
	Status   int
	Header   http.Header
	Body     string
	Location string
}

// NewVisitor starts a new visitor on this client: fresh cookies and a
// client address no other visitor of this run uses.
func (c *Client) NewVisitor() {
	jar, _ := cookiejar.New(nil) // never fails without options
	c.http.Jar = jar
	c.visits++
	c.addr = visitorAddr(c.run.id, c.id, c.visits)
}

// ID is the client's number in the run, from 0.
func (c *Client) ID() int { return c.id }

// Visits is how many visitors this client has started.
func (c *Client) Visits() int { return c.visits }

// RunID distinguishes this run from others: scenarios put it in the data
// they submit, so reruns against one database do not collide.
func (c *Client) RunID() string { return c.run.idString }

// SetCookie gives the current visitor a cookie for the site, e.g. a
// session created outside the benchmark.
func (c *Client) SetCookie(name, value string) {
	if c.http.Jar == nil {
		c.NewVisitor()
	}
	c.http.Jar.SetCookies(c.run.base, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// Get requests path and records it under label.
func (c *Client) Get(ctx context.Context, label, path string) (Response, error) {
	return c.do(ctx, label, http.MethodGet, path, nil)
}

// PostForm posts form to path and records it under label.
func (c *Client) PostForm(ctx context.Context, label, path string, form url.Values) (Response, error) {
	return c.do(ctx, label, http.MethodPost, path, form)
}

func (c *Client) do(ctx context.Context, label, method, path string, form url.Values) (Response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, c.run.baseStr+path, body)
	if err != nil {
		return Response{}, fmt.Errorf("httpload: %s %s: %w", method, path, err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("User-Agent", "recoverydesk-bench/1 (client "+strconv.Itoa(c.id)+")")
	if c.addr == "" {
		c.NewVisitor()
	}
	req.Header.Set("X-Forwarded-For", c.addr)
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Response{}, ctx.Err()
		}
		c.run.stats.transportError(label)
		return Response{}, fmt.Errorf("httpload: %s %s: %w", method, path, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	elapsed := time.Since(start)
	if err != nil {
		if ctx.Err() != nil {
			return Response{}, ctx.Err()
		}
		c.run.stats.transportError(label)
		return Response{}, fmt.Errorf("httpload: read %s %s: %w", method, path, err)
	}
	server, hasServer := serverDuration(resp.Header.Get("Server-Timing"))
	c.run.stats.record(label, resp.StatusCode, elapsed, server, hasServer)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: string(b), Location: resp.Header.Get("Location")}, nil
}

// serverDuration reads the "app" metric of a Server-Timing header
// ("app;dur=12.5", milliseconds).
func serverDuration(h string) (time.Duration, bool) {
	for _, metric := range strings.Split(h, ",") {
		parts := strings.Split(strings.TrimSpace(metric), ";")
		if parts[0] != "app" {
			continue
		}
		for _, p := range parts[1:] {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "dur="); ok {
				ms, err := strconv.ParseFloat(v, 64)
				if err == nil && ms >= 0 {
					return time.Duration(ms * float64(time.Millisecond)), true
				}
			}
		}
	}
	return 0, false
}

// visitorAddr is a unique-local IPv6 address (RFC 4193) for visitor n of
// client id in run: distinct per visitor within a run and, through the
// run's random prefix, across runs against one database.
func visitorAddr(run uint32, client, n int) string {
	return fmt.Sprintf("fd00:%x:%x:%x::%x", run>>16, run&0xffff, client, n)
}
