package main_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/internal/pgcluster"
)

// privateCluster starts a PostgreSQL cluster of the test's own, which the
// test may stop and start; it is stopped and removed at the end. The
// server binaries are found as pgcluster finds them (PATH, then
// /usr/lib/postgresql/*/bin); a machine without them fails the test, as
// it fails every test that needs PostgreSQL.
func privateCluster(t *testing.T) *pgcluster.Cluster {
	t.Helper()
	// Not t.TempDir: its parents are private to us, and as root the
	// server runs as the postgres user, which must reach the directory.
	dir, err := os.MkdirTemp("", "rd-chaos-pg-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := pgcluster.Start(ctx, filepath.Join(dir, "pg"), "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			t.Errorf("stop private cluster: %v", err)
		}
		_ = os.RemoveAll(dir)
	})
	return c
}

// TestChaosPostgresRestart: PostgreSQL restarted (fast shutdown: every
// session is cut) while a worker ingests; the same worker process, not
// restarted, recovers by itself and finishes with nothing lost or stored
// twice.
func TestChaosPostgresRestart(t *testing.T) {
	const total = 2000
	begin := time.Now()
	cluster := privateCluster(t)
	db := openChaosDB(t, cluster.URL("rdchaos"))
	imapSrv := startChaosIMAP(t)
	plan := planMail(total, "pg")
	imapSrv.appendRaw(t, plan.raws())
	relay := startChaosSMTP(t, nil)
	t.Logf("cluster started and mailbox filled in %v", time.Since(begin).Round(time.Millisecond))

	w := start(t, workerEnv(db.url, imapSrv.URL(), relay.URL()), "worker")
	poll(t, "300 messages stored", 2*time.Minute, []*process{w}, func(ctx context.Context) (bool, error) {
		n, err := db.storedInbound(ctx)
		return n >= 300, err
	})
	ctx := context.Background()
	restarted := time.Now()
	if err := cluster.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := pgcluster.Start(ctx, cluster.Dir, "", slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	db.pool.Reset() // our own connections died with the server
	n := db.mustCount(t, `SELECT count(*) FROM messages WHERE direction = 'inbound'`)
	if n >= len(plan.ids) {
		t.Fatalf("ingestion finished before the restart: nothing was tested")
	}
	t.Logf("PostgreSQL restarted in %v with %d stored", time.Since(restarted).Round(time.Millisecond), n)

	waitIngested(t, db, plan, 2*time.Minute, w)
	t.Logf("all ingested %v after the restart", time.Since(restarted).Round(time.Millisecond))
	if !w.alive() {
		t.Fatal("worker exited")
	}
	assertIngestedOnce(t, db, plan)
	// River recovered too: every acknowledgement was sent and recorded as
	// such; none failed, none was left claimed ("sending") by an attempt
	// the restart cut short.
	poll(t, "acknowledgements sent", time.Minute, []*process{w}, func(ctx context.Context) (bool, error) {
		n, err := db.count(ctx, `SELECT count(*) FROM outbound_mails WHERE status IN ('queued', 'deferred', 'sending')`)
		return n == 0, err
	})
	assertAcksDelivered(t, db, relay)
	t.Logf("acknowledgements done %v after the restart", time.Since(restarted).Round(time.Millisecond))
	if code := w.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("worker exit %d after SIGTERM, want 0", code)
	}
}

// assertAcksDelivered checks that every queued mail reached the relay and
// is marked sent.
func assertAcksDelivered(t *testing.T, db *chaosDB, relay *chaosSMTP) {
	t.Helper()
	rows, err := db.pool.Query(context.Background(), `SELECT id, to_address, status FROM outbound_mails ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	delivered := relay.deliveredTo()
	for rows.Next() {
		var id int
		var to, status string
		if err := rows.Scan(&id, &to, &status); err != nil {
			t.Fatal(err)
		}
		if status != "sent" || delivered[strings.ToLower(to)] == 0 {
			t.Errorf("outbound mail %d to %s: status %s, delivered %d times; want sent and delivered", id, to, status, delivered[strings.ToLower(to)])
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
