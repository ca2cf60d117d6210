package main_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/recoverydesk/recoverydesk/internal/pgcluster"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// The chaos tests run the real worker (`recoverydesk worker`) against an
// IMAP server and an SMTP server hosted by the test process, break
// something (SIGKILL, a PostgreSQL or IMAP restart, a refusing relay, a
// second worker) and judge the outcome only from PostgreSQL rows and what
// the servers saw, so they hold for any correct ingestion. Each uses its
// own database: every worker process would otherwise take other tests'
// jobs and mailboxes.

// chaosSecret is the worker's SECRET_KEY.
const chaosSecret = "chaos-0123456789abcdef0123456789abcdef"

// workerEnv is the environment of a worker ingesting imapURL into dbURL
// and sending over smtpURL.
func workerEnv(dbURL, imapURL, smtpURL string) []string {
	return []string{
		"DATABASE_URL=" + dbURL,
		"SECRET_KEY=" + chaosSecret,
		"BASE_URL=http://rd.test",
		"IMAP_URL=" + imapURL,
		"SMTP_URL=" + smtpURL,
		"SUPPORT_ADDRESS=support@desk.test",
		// Info would log every mail sent; warnings still show quarantines
		// and reconnects when a test fails.
		"LOG_LEVEL=warn",
		"SHUTDOWN_TIMEOUT=10s",
	}
}

// chaosDB is the test's own view of the worker's database.
type chaosDB struct {
	url  string
	pool *pgxpool.Pool
}

// freshChaosDB is a new, empty database for one test's workers. Commits
// there do not wait for the WAL flush: what is tested is the worker, not
// PostgreSQL's durability (no test crashes PostgreSQL; a fast shutdown
// flushes), and on a shared disk the fsyncs would dominate the run time.
func freshChaosDB(t *testing.T) *chaosDB {
	t.Helper()
	db := openChaosDB(t, testdb.Fresh(t))
	name, err := pgcluster.DatabaseName(db.url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(context.Background(), "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" SET synchronous_commit = off"); err != nil {
		t.Fatal(err)
	}
	return db
}

func openChaosDB(t *testing.T, url string) *chaosDB {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return &chaosDB{url: url, pool: pool}
}

// count runs a query returning one number.
func (db *chaosDB) count(ctx context.Context, query string, args ...any) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("%s: %w", query, err)
	}
	return n, nil
}

// mustCount is count for assertions after the fact.
func (db *chaosDB) mustCount(t *testing.T, query string, args ...any) int {
	t.Helper()
	n, err := db.count(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// storedInbound counts inbound messages stored (tables may not exist yet
// before the worker has migrated: that is an error, i.e. "not yet").
func (db *chaosDB) storedInbound(ctx context.Context) (int, error) {
	return db.count(ctx, `SELECT count(*) FROM messages WHERE direction = 'inbound'`)
}

// expireLeases fast-forwards the clock of every mailbox lease a killed
// worker left behind: the lease TTL is a minute and not configurable, and
// a test cannot wait for it.
func (db *chaosDB) expireLeases(t *testing.T) {
	t.Helper()
	_, err := db.pool.Exec(context.Background(),
		`UPDATE mailbox_checkpoints SET lease_expires_at = now() - interval '1 second' WHERE lease_owner IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
}

// alive says whether p is still running.
func (p *process) alive() bool {
	select {
	case err := <-p.done:
		p.done <- err
		return false
	default:
		return true
	}
}

// poll checks cond every 50ms until it holds or timeout passes. Every
// process in running must stay up meanwhile. A cond error means "not
// yet" (the database may be restarting), and is reported on timeout.
func poll(t *testing.T, what string, timeout time.Duration, running []*process, cond func(context.Context) (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		for _, p := range running {
			if !p.alive() {
				t.Fatalf("waiting for %s: worker exited (%v):\n%s", what, exitErr(p), tail(p.output(), 40))
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ok, err := cond(ctx)
		cancel()
		if ok && err == nil {
			return
		}
		lastErr = err
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s (last error: %v)", timeout, what, lastErr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func exitErr(p *process) error {
	err := <-p.done
	p.done <- err
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee
	}
	return err
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
