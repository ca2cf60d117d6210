package pgcluster_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/recoverydesk/recoverydesk/internal/pgcluster"
)

func randomName(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func serverURL(t *testing.T) string {
	t.Helper()
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

func queryOne(t *testing.T, url, sql string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	defer conn.Close(ctx)
	var s string
	if err := conn.QueryRow(ctx, sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func TestDiscoverWithURLCreatesDatabase(t *testing.T) {
	ctx := context.Background()
	name := randomName("rd_pgcluster_")
	res, err := pgcluster.Discover(ctx, pgcluster.Options{URL: serverURL(t), Database: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pgcluster.DropDatabase(ctx, res.URL) })
	if res.Cluster != nil {
		t.Fatal("an explicit URL must never start a private cluster")
	}
	if got := queryOne(t, res.URL, "SELECT current_database()"); got != name {
		t.Fatalf("connected to %q, want %q", got, name)
	}
	// A second discovery (another process starting) finds it and does not fail.
	if _, err := pgcluster.Discover(ctx, pgcluster.Options{URL: serverURL(t), Database: name}); err != nil {
		t.Fatalf("second discovery: %v", err)
	}
}

// pgxpool's settings in DATABASE_URL (how the pool is sized) are not
// sent to the server by discovery's own connections.
func TestDiscoverAcceptsPoolSettings(t *testing.T) {
	ctx := context.Background()
	name := randomName("rd_pgcluster_pool_")
	u, err := url.Parse(serverURL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", "16")
	u.RawQuery = q.Encode()
	res, err := pgcluster.Discover(ctx, pgcluster.Options{URL: u.String(), Database: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pgcluster.DropDatabase(ctx, res.URL) })
	if !strings.Contains(res.URL, "pool_max_conns=16") {
		t.Errorf("discovered URL %q lost the pool setting", res.URL)
	}
}

func TestDiscoverRefusedByServerIsNotFallback(t *testing.T) {
	// A server that answers but rejects us must be reported, not papered
	// over with a private cluster.
	_, err := pgcluster.Discover(context.Background(), pgcluster.Options{
		URL: "postgres://no_such_role_rd@127.0.0.1:5432/postgres?sslmode=disable", Database: randomName("rd_x_"),
	})
	if err == nil {
		t.Fatal("want an error for an unknown role")
	}
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func privateDir(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/lib/postgresql"); err != nil {
		t.Skip("PostgreSQL server binaries not installed")
	}
	// t.TempDir is 0700; the cluster may run as the postgres user, which
	// must be able to enter the parents.
	base, err := os.MkdirTemp("", "rd-pgcluster-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(base, "postgres")
}

func TestFallbackToPrivateClusterWhenNothingAnswers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := privateDir(t)
	res, err := pgcluster.Discover(ctx, pgcluster.Options{Probe: closedPort(t), Dir: dir, Database: "rd_fallback"})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close(ctx)
	if res.Cluster == nil {
		t.Fatal("nothing answered, so a private cluster must have been started")
	}
	if got := queryOne(t, res.URL, "SELECT current_database()"); got != "rd_fallback" {
		t.Fatalf("database %q, want rd_fallback (created if missing)", got)
	}
	if got := queryOne(t, res.URL, "SHOW data_directory"); got != filepath.Join(dir, "data") {
		t.Fatalf("data directory %q, want under %s", got, dir)
	}
	if os.Geteuid() == 0 {
		info, err := os.Stat(filepath.Join(dir, "data"))
		if err != nil {
			t.Fatal(err)
		}
		if uid := ownerUID(info); uid == 0 {
			t.Fatal("as root, the cluster must be owned and run by the postgres OS user")
		}
	}
	if err := res.Close(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if res.Cluster.Running(ctx) {
		t.Fatal("cluster still running after Close")
	}
	if _, err := pgx.Connect(ctx, res.URL); err == nil {
		t.Fatal("connected to a stopped cluster")
	}

	// Started again (next dev run) it reuses the data: the database is there.
	again, err := pgcluster.Discover(ctx, pgcluster.Options{ForcePrivate: true, Dir: dir, Database: "rd_fallback"})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close(ctx)
	if got := queryOne(t, again.URL, "SELECT count(*)::text FROM pg_database WHERE datname = 'rd_fallback'"); got != "1" {
		t.Fatalf("database count %s after restart", got)
	}
}

func TestNoServerAndNoBinaries(t *testing.T) {
	_, err := pgcluster.Discover(context.Background(), pgcluster.Options{Probe: closedPort(t), Dir: t.TempDir(), BinDir: t.TempDir()})
	if !errors.Is(err, pgcluster.ErrNoServer) {
		t.Fatalf("err = %v, want ErrNoServer", err)
	}
}
