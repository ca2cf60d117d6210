package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/internal/bench"
	"github.com/recoverydesk/recoverydesk/internal/bench/httpload"
	"github.com/recoverydesk/recoverydesk/internal/config"
	"github.com/recoverydesk/recoverydesk/internal/seed"
	"github.com/recoverydesk/recoverydesk/web"
)

type benchHTTPOpts struct {
	url       string
	clients   int
	duration  time.Duration
	requests  int
	scenarios string
	password  string
	searches  string
}

func benchHTTP() *benchmark {
	return &benchmark{
		name:    "http",
		summary: "Load /recover, login and the /desk queue with concurrent clients",
		help: `Runs each scenario with --clients concurrent clients for --duration (or
--requests steps) and prints requests, req/s, latency percentiles p50, p90,
p99 and max (as the client saw them and, from the Server-Timing header the
in-process server adds, the server's own time), status counts per request
kind, and one machine-readable "bench-http" line per scenario.

Scenarios (--scenarios, in this order):
  recover  a new visitor opens /recover and submits the form with data of
           its own (existing account names, a unique contact address); at
           the end every case opened must have its six evidence jobs and
           its acknowledgement mail, written in the form's transaction
  login    a new visitor opens /login and signs in with a password to the
           next of a random sample of active bulk accounts (--password);
           each login is an argon2id hash (about 50-60 ms of CPU)
  queue    each client is a signed-in staff member (a session created in
           the database for each client: a real sign-in needs a TOTP code
           per account and 30 s, and an emailed confirmation) opening the
           default queue, its page 2, a filter, a sort and a search

Without --url the real web application runs in-process on a loopback port
against DATABASE_URL (migrate it first), trusting 127.0.0.1 as a reverse
proxy (TRUSTED_PROXIES): every simulated visitor sends its own address in
X-Forwarded-For, which is how a site behind a proxy sees its clients, so
the per-address rate limits count each visitor apart. With --url the
target must trust this machine in TRUSTED_PROXIES and use DATABASE_URL's
database (for accounts, staff sessions and the job check).

Any 5xx answer, request without answer or failed check fails the run
(exit 1). docs/BENCHMARKS.md has the numbers measured with
'recoverydesk seed --bulk' data.`,
		flags: func(fs *flag.FlagSet) any {
			o := &benchHTTPOpts{}
			fs.StringVar(&o.url, "url", "", "base URL of a running server to load (default: start the app in-process)")
			fs.IntVar(&o.clients, "clients", 32, "concurrent clients")
			fs.DurationVar(&o.duration, "duration", 30*time.Second, "how long each scenario starts new steps (steps under way then finish)")
			fs.IntVar(&o.requests, "requests", 0, "stop each scenario after this many steps (a form submission, a login, a round of queue pages); 0: run for --duration")
			fs.StringVar(&o.scenarios, "scenarios", "recover,login,queue", "comma-separated scenarios to run")
			fs.StringVar(&o.password, "password", seed.BulkPassword, "password of the accounts the login scenario signs in to")
			fs.StringVar(&o.searches, "searches", strings.Join(httpload.DefaultQueueViews.Searches, ","), "comma-separated full-text searches of the queue scenario")
			return o
		},
		run: func(ctx context.Context, c *cli, opts any) error {
			return runBenchHTTP(ctx, c, opts.(*benchHTTPOpts))
		},
	}
}

func runBenchHTTP(ctx context.Context, c *cli, o *benchHTTPOpts) error {
	if o.clients < 1 {
		return usagef("--clients must be at least 1")
	}
	if o.duration <= 0 && o.requests <= 0 {
		return usagef("set a positive --duration or --requests")
	}
	var names []string
	for _, n := range strings.Split(o.scenarios, ",") {
		switch n = strings.TrimSpace(n); n {
		case "recover", "login", "queue":
			names = append(names, n)
		case "":
		default:
			return usagef("unknown scenario %q (recover, login, queue)", n)
		}
	}
	if len(names) == 0 {
		return usagef("name at least one scenario")
	}

	base := o.url
	var ln net.Listener
	env := c.getenv
	if base == "" {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return fmt.Errorf("bench http: listen: %w", err)
		}
		defer ln.Close()
		base = "http://" + ln.Addr().String()
		env = benchEnv(c.getenv, base)
	}
	// No migrations here: the benchmark must not change the schema of the
	// database it measures; the app refuses to start on a stale schema.
	rt, err := setup(ctx, &cli{stdout: c.stdout, stderr: c.stderr, getenv: env}, config.ModeServe, false)
	if err != nil {
		return err
	}
	defer rt.close()

	if ln != nil {
		app, err := newWebApp(rt, nil, true)
		if err != nil {
			return err
		}
		srvCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
		served := make(chan error, 1)
		go func() { served <- web.Serve(srvCtx, app, ln, 10*time.Second) }()
		defer func() {
			stop()
			if err := <-served; err != nil {
				rt.log.Error("bench http: stop the in-process server", "err", err)
			}
		}()
	}
	if err := waitHealthy(ctx, base); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "bench http: %s, %d clients, scenarios %s, %s\n", base, o.clients, strings.Join(names, ","), benchBound(o))

	mem := bench.WatchMemory(ctx, 100*time.Millisecond)
	var failed []error
	for _, name := range names {
		res, checkErr, err := runScenario(ctx, c, rt, o, base, name)
		if err != nil {
			return err
		}
		failed = append(failed, res.Err(), checkErr)
	}
	fmt.Fprintf(c.stdout, "bench http: this process (load generator and in-process server): %s\n", mem.Stop())
	return errors.Join(failed...)
}

func benchBound(o *benchHTTPOpts) string {
	if o.requests > 0 && o.duration > 0 {
		return fmt.Sprintf("%d steps or %s each", o.requests, o.duration)
	}
	if o.requests > 0 {
		return fmt.Sprintf("%d steps each", o.requests)
	}
	return fmt.Sprintf("%s each", o.duration)
}

// runScenario prepares one scenario's data from the database, runs it,
// prints the result and, for recover, checks the cases it opened: a
// failed check is checkErr, a run that could not take place err.
func runScenario(ctx context.Context, c *cli, rt *runtime, o *benchHTTPOpts, base, name string) (res *httpload.Result, checkErr, err error) {
	lo := httpload.Options{BaseURL: base, Clients: o.clients, Duration: o.duration, Iterations: o.requests}
	var sc httpload.Scenario
	var after func() error
	switch name {
	case "recover":
		users, err := sampleUsernames(ctx, rt, 5000)
		if err != nil {
			return nil, nil, err
		}
		// Jobs of earlier runs are left out of the check by id.
		var lastJob int64
		if err := rt.store.Pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM river_job`).Scan(&lastJob); err != nil {
			return nil, nil, fmt.Errorf("bench http: recover: %w", err)
		}
		s := &httpload.Recover{Usernames: users}
		sc = s.Scenario()
		after = func() error { return checkRecoverJobs(ctx, c, rt, s.References(), lastJob) }
	case "login":
		users, err := sampleUsernames(ctx, rt, 50000)
		if err != nil {
			return nil, nil, err
		}
		if len(users) == 0 {
			return nil, nil, errors.New("bench http: login: no active accounts with a password (run 'recoverydesk seed --bulk')")
		}
		sc = (&httpload.Login{Usernames: users, Password: o.password}).Scenario()
	case "queue":
		tokens, revoke, err := staffSessions(ctx, rt, o.clients)
		if err != nil {
			return nil, nil, err
		}
		defer revoke()
		views := httpload.DefaultQueueViews
		sc = (&httpload.Queue{Cookie: web.SessionCookie, Sessions: tokens, Filters: views.Filters, Sorts: views.Sorts, Searches: splitList(o.searches)}).Scenario()
	}
	res, err = httpload.Run(ctx, sc, lo)
	if err != nil {
		return nil, nil, err
	}
	res.Print(c.stdout)
	if after != nil {
		checkErr = after()
	}
	return res, checkErr, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// benchEnv is the environment of the in-process server: what the caller
// set, plus a throwaway SECRET_KEY, BASE_URL at the listener, loopback as
// the trusted proxy and warnings-only logs (a line per request would
// measure the terminal).
func benchEnv(getenv func(string) string, base string) func(string) string {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	secret := hex.EncodeToString(key)
	return func(name string) string {
		v := getenv(name)
		switch name {
		case "SECRET_KEY":
			if v == "" {
				v = secret
			}
		case "BASE_URL":
			v = base
		case "HTTP_ADDR":
			v = strings.TrimPrefix(base, "http://")
		case "TRUSTED_PROXIES":
			v = "127.0.0.1"
		case "LOG_LEVEL":
			if v == "" {
				v = "warn"
			}
		}
		return v
	}
}

// waitHealthy polls /healthz until the server answers 200.
func waitHealthy(ctx context.Context, base string) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/healthz", nil)
		if err != nil {
			return fmt.Errorf("bench http: %w", err)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bench http: %s/healthz did not answer 200: %v", base, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// sampleUsernames picks up to n active accounts with a password and no
// staff role, at random.
func sampleUsernames(ctx context.Context, rt *runtime, n int) ([]string, error) {
	rows, err := rt.store.Pool.Query(ctx, `SELECT username FROM users
		WHERE staff_role = 'none' AND status = 'active' AND password_hash IS NOT NULL
		ORDER BY random() LIMIT $1`, n)
	if err != nil {
		return nil, fmt.Errorf("bench http: sample accounts: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("bench http: sample accounts: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("bench http: sample accounts: %w", err)
	}
	return out, nil
}

// staffSessions signs in one staff member per client by creating a
// session in the database (as a completed password and TOTP login does)
// and returns the cookie tokens and a function that revokes them.
func staffSessions(ctx context.Context, rt *runtime, n int) ([]string, func(), error) {
	rows, err := rt.store.Pool.Query(ctx, `SELECT u.id FROM users u
		WHERE u.staff_role IN ('agent', 'admin') AND u.status = 'active'
		AND EXISTS (SELECT 1 FROM totp_credentials t WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL)
		ORDER BY u.id`)
	if err != nil {
		return nil, nil, fmt.Errorf("bench http: find staff: %w", err)
	}
	var staff []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("bench http: find staff: %w", err)
		}
		staff = append(staff, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("bench http: find staff: %w", err)
	}
	if len(staff) == 0 {
		return nil, nil, errors.New("bench http: queue: no active staff member with TOTP (run 'recoverydesk seed --bulk')")
	}
	sessions := account.NewSessions(rt.store.Ent, account.DefaultSessionPolicy, nil)
	var tokens []string
	revoke := func() {
		// The run may have been interrupted: revoking must still happen.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		for _, t := range tokens {
			if err := sessions.Revoke(ctx, t); err != nil {
				rt.log.Error("bench http: revoke a staff session", "err", err)
			}
		}
	}
	for i := range n {
		t, err := sessions.Create(ctx, nil, staff[i%len(staff)], account.SessionMeta{IP: "127.0.0.1", UserAgent: "recoverydesk bench http", AuthMethods: []string{"password", "totp"}})
		if err != nil {
			revoke()
			return nil, nil, fmt.Errorf("bench http: staff session: %w", err)
		}
		tokens = append(tokens, t)
	}
	return tokens, revoke, nil
}

// checkRecoverJobs verifies that every case the recover scenario opened
// has its six evidence jobs and its acknowledgement mail: intake writes
// them in the case's transaction, so a case without them is a bug and
// fails the run.
func checkRecoverJobs(ctx context.Context, c *cli, rt *runtime, refs []string, lastJob int64) error {
	if len(refs) == 0 {
		return nil
	}
	start := time.Now()
	var cases, complete int
	err := rt.store.Pool.QueryRow(ctx, `WITH opened AS (SELECT id FROM cases WHERE reference = ANY($1)),
		jobs AS (SELECT (metadata->>'case_id')::bigint AS case_id, count(DISTINCT kind) AS kinds FROM river_job
			WHERE id > $2 AND kind LIKE 'desk.evidence.%' GROUP BY 1)
		SELECT count(*), count(*) FILTER (WHERE j.kinds = 6
			AND EXISTS (SELECT 1 FROM outbound_mails m WHERE m.case_id = o.id))
		FROM opened o LEFT JOIN jobs j ON j.case_id = o.id`, refs, lastJob).Scan(&cases, &complete)
	if err != nil {
		return fmt.Errorf("bench http: check the jobs of the cases opened: %w", err)
	}
	fmt.Fprintf(c.stdout, "  jobs check: %d cases opened, %d found, %d with their 6 evidence jobs and acknowledgement mail (checked in %s)\n",
		len(refs), cases, complete, time.Since(start).Round(time.Millisecond))
	if cases != len(refs) || complete != cases {
		return fmt.Errorf("bench http: recover: %d of %d cases opened lack their evidence jobs or acknowledgement mail", len(refs)-complete, len(refs))
	}
	return nil
}
