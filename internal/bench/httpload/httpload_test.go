package httpload_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/internal/bench/httpload"
	"github.com/recoverydesk/recoverydesk/internal/config"
	"github.com/recoverydesk/recoverydesk/internal/seed"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/mailbox"
	"github.com/recoverydesk/recoverydesk/web"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// startSite serves the real app (account and desk services on the
// package's database, Server-Timing on, loopback trusted as the proxy)
// on a loopback port, with an extra route /boom that always answers 500.
// It returns the site's URL and its sessions.
func startSite(t *testing.T) (string, *account.Sessions) {
	t.Helper()
	st := testdb.Store(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("http://" + ln.Addr().String())
	cfg := config.Config{
		Mode: config.ModeServe, SiteName: "Bench Test", BaseURL: base,
		SecretKey: bytes.Repeat([]byte("b"), 32), SupportAddress: "support@bench.test",
		TrustedProxies: []string{"127.0.0.1"},
	}
	ob, err := mailbox.NewOutbox(mailbox.OutboxConfig{Client: st.Ent, From: mail.Address{Address: cfg.SupportAddress}})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := account.NewServices(account.ServicesConfig{Store: st, Outbox: ob, SiteName: cfg.SiteName, BaseURL: base,
		Params: &account.PasswordParams{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := mailbox.NewMessageIDSigner(cfg.SecretKey, "bench.test")
	if err != nil {
		t.Fatal(err)
	}
	ev := desk.NewEvidence(st, ob, signer, cfg.SiteName, base, desk.EvidenceOptions{})
	app, err := web.New(web.Deps{
		Config: cfg, Logger: slog.New(slog.DiscardHandler), Sessions: acct.Sessions, Account: acct,
		Desk:     desk.NewIntake(st, ob, signer, acct.Limits, cfg.SiteName, base, nil),
		Evidence: ev,
		Triage:   desk.NewTriage(st, ob, signer, ev, cfg.SiteName, base, desk.TriageOptions{}),
		Ready:    func(context.Context) error { return nil }, ServerTiming: true,
		Extra: func(r fiber.Router) {
			r.Get("/boom", func(c *fiber.Ctx) error { return errors.New("boom") })
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- web.Serve(ctx, app, ln, 5*time.Second) }()
	t.Cleanup(func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return base.String(), acct.Sessions
}

func TestRecoverRunCountsRequestsAndChecksJobs(t *testing.T) {
	site, _ := startSite(t)
	s := &httpload.Recover{}
	res, err := httpload.Run(t.Context(), s.Scenario(), httpload.Options{BaseURL: site, Clients: 3, Iterations: 7})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Fatalf("run failed: %v", err)
	}
	// Each form submission is a GET of the form and its POST.
	if res.Iterations != 7 || res.Requests != 14 || res.Status[200] != 14 {
		t.Fatalf("iterations %d, requests %d, status %v; want 7, 14, all 200", res.Iterations, res.Requests, res.Status)
	}
	if res.Client.Count != 14 || res.Client.P50 <= 0 || res.Client.P99 < res.Client.P50 || res.Client.Max < res.Client.P99 {
		t.Fatalf("client latencies %v", res.Client)
	}
	// The app's Server-Timing header is read: the server's time is there
	// and no longer than what the client waited.
	if res.Server.Count != 14 || res.Server.P50 <= 0 || res.Server.Max > res.Client.Max {
		t.Fatalf("server latencies %v (client %v)", res.Server, res.Client)
	}
	if len(res.Labels) != 2 || res.Labels[0].Label != "GET /recover" || res.Labels[1].Client.Count != 7 {
		t.Fatalf("labels %+v", res.Labels)
	}
	var out strings.Builder
	res.Print(&out)
	for _, want := range []string{"POST /recover (client) n=7 ", "bench-http scenario=recover clients=3 ", " requests=14 ", " p99_ms=", " status=200=14 "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}

	// Every case opened got its evidence jobs, and every visitor came
	// from an address of its own.
	refs := s.References()
	if len(refs) != 7 {
		t.Fatalf("references %v", refs)
	}
	var cases, withJobs, addrs int
	err = testdb.Store(t).Pool.QueryRow(t.Context(), `SELECT count(*),
			count(*) FILTER (WHERE (SELECT count(DISTINCT j.kind) FROM river_job j
				WHERE j.metadata @> jsonb_build_object('case_id', c.id) AND j.kind LIKE 'desk.evidence.%') = 6),
			(SELECT count(DISTINCT e.details->>'ip') FROM case_events e JOIN cases c2 ON c2.id = e.case_id
				WHERE c2.reference = ANY($1) AND e.kind = 'case_opened')
		FROM cases c WHERE c.reference = ANY($1)`, refs).Scan(&cases, &withJobs, &addrs)
	if err != nil {
		t.Fatal(err)
	}
	if cases != 7 || withJobs != 7 || addrs != 7 {
		t.Fatalf("%d cases, %d with their 6 evidence jobs, %d client addresses; want 7 each", cases, withJobs, addrs)
	}
}

func TestServerErrorFailsTheRun(t *testing.T) {
	site, _ := startSite(t)
	sc := httpload.Scenario{Name: "boom", Step: func(ctx context.Context, c *httpload.Client) error {
		_, err := c.Get(ctx, "GET /boom", "/boom")
		return err
	}}
	res, err := httpload.Run(t.Context(), sc, httpload.Options{BaseURL: site, Clients: 2, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || res.Status[500] != res.Requests || res.ServerErrors() != res.Requests {
		t.Fatalf("requests %d, status %v", res.Requests, res.Status)
	}
	if res.Elapsed < 200*time.Millisecond {
		t.Fatalf("run ended after %s, before its duration", res.Elapsed)
	}
	if err := res.Err(); err == nil || !strings.Contains(err.Error(), "5xx") {
		t.Fatalf("Err() = %v, want a 5xx failure", err)
	}
}

func TestFailedCheckFailsTheRun(t *testing.T) {
	site, _ := startSite(t)
	sc := httpload.Scenario{Name: "missing", Step: func(ctx context.Context, c *httpload.Client) error {
		r, err := c.Get(ctx, "GET /missing", "/no-such-page")
		if err == nil && r.Status != 200 {
			err = errors.New("GET /no-such-page answered " + r.Header.Get("Content-Type"))
		}
		return err
	}}
	res, err := httpload.Run(t.Context(), sc, httpload.Options{BaseURL: site, Clients: 1, Iterations: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status[404] != 3 || res.Failures != 3 || res.Iterations != 0 || res.Err() == nil {
		t.Fatalf("status %v, failures %d, iterations %d, err %v", res.Status, res.Failures, res.Iterations, res.Err())
	}
}

// TestLoginAndQueueOnBulkData runs the login and queue scenarios on a
// small bulk load: real accounts with the bulk password, staff with
// TOTP, cases with messages and search documents.
func TestLoginAndQueueOnBulkData(t *testing.T) {
	site, sessions := startSite(t)
	st := testdb.Store(t)
	if _, err := seed.Bulk(t.Context(), st, seed.BulkOptions{Accounts: 40, Cases: 1000, Messages: 2000, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	var users []string
	rows, err := st.Pool.Query(t.Context(), `SELECT username FROM users WHERE staff_role = 'none' AND status = 'active' ORDER BY id LIMIT 6`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	if rows.Close(); len(users) != 6 {
		t.Fatalf("accounts %v", users)
	}
	login := &httpload.Login{Usernames: users, Password: seed.BulkPassword}
	res, err := httpload.Run(t.Context(), login.Scenario(), httpload.Options{BaseURL: site, Clients: 2, Iterations: 6})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil || res.Iterations != 6 || res.Status[303] != 6 {
		t.Fatalf("login: err %v, iterations %d, status %v", err, res.Iterations, res.Status)
	}
	// A wrong password is a failed check, not a success.
	bad := &httpload.Login{Usernames: users[:1], Password: "not-the-password"}
	if res, err = httpload.Run(t.Context(), bad.Scenario(), httpload.Options{BaseURL: site, Clients: 1, Iterations: 1}); err != nil || res.Failures != 1 {
		t.Fatalf("wrong password: err %v, result %+v", err, res)
	}

	var staffID int
	if err := st.Pool.QueryRow(t.Context(), `SELECT id FROM users WHERE staff_role = 'agent' ORDER BY id LIMIT 1`).Scan(&staffID); err != nil {
		t.Fatal(err)
	}
	token, err := sessions.Create(t.Context(), nil, staffID, account.SessionMeta{AuthMethods: []string{"password", "totp"}})
	if err != nil {
		t.Fatal(err)
	}
	v := httpload.DefaultQueueViews
	q := &httpload.Queue{Cookie: web.SessionCookie, Sessions: []string{token}, Filters: v.Filters, Sorts: v.Sorts, Searches: v.Searches}
	res, err = httpload.Run(t.Context(), q.Scenario(), httpload.Options{BaseURL: site, Clients: 2, Iterations: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil || res.Iterations != 4 || res.Status[200] != 20 || len(res.Labels) != 5 {
		t.Fatalf("queue: err %v, iterations %d, status %v, labels %d", err, res.Iterations, res.Status, len(res.Labels))
	}
	// Without a valid session the desk sends the client to the login:
	// every step fails its check.
	q.Sessions = []string{"not-a-session"}
	if res, err = httpload.Run(t.Context(), q.Scenario(), httpload.Options{BaseURL: site, Clients: 1, Iterations: 2}); err != nil || res.Failures != 2 || res.Status[303] != 2 {
		t.Fatalf("signed out: err %v, failures %d, status %v", err, res.Failures, res.Status)
	}
}
