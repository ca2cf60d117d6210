package migrategen_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/recoverydesk/recoverydesk/internal/migrategen"
	"github.com/recoverydesk/recoverydesk/internal/pgcluster"
)

// repoMigrations is the checked-in migration directory.
var repoMigrations = filepath.Join("..", "..", "migrations")

// adminURL finds PostgreSQL by the program's rules and returns a URL to its
// always-present "postgres" database; Diff creates its scratch databases
// from there. It skips the test only when no server can be had.
func adminURL(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := pgcluster.Discover(ctx, pgcluster.Options{
		URL:      os.Getenv("DATABASE_URL"),
		Dir:      filepath.Join("..", "..", ".data", "postgres"),
		Database: "postgres",
	})
	if errors.Is(err, pgcluster.ErrNoServer) {
		t.Skipf("PostgreSQL unreachable: %v", err)
	}
	if err != nil {
		t.Fatalf("find PostgreSQL: %v", err)
	}
	// A private cluster is left running for the other test packages, as
	// internal/testdb does.
	return res.URL
}

// copyMigrations copies the checked-in .sql files and atlas.sum into a
// fresh directory, so a test can diff without touching the repository.
func copyMigrations(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(repoMigrations)
	if err != nil {
		t.Fatal(err)
	}
	copied := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") && name != "atlas.sum" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(repoMigrations, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		copied++
	}
	if copied < 2 {
		t.Fatalf("found %d migration files in %s; want at least one .sql and atlas.sum", copied, repoMigrations)
	}
	return dst
}

// TestMigrationsMatchSchema fails when the ent schema changed without a
// migration: run `go run ./cmd/migrategen -name <change>` to fix it.
func TestMigrationsMatchSchema(t *testing.T) {
	url := adminURL(t)
	dir := copyMigrations(t)
	written, err := migrategen.Diff(context.Background(), url, dir, "check")
	if err != nil {
		t.Fatalf("Diff: %v", err)
	}
	if len(written) > 0 {
		b, _ := os.ReadFile(written[0])
		t.Fatalf("ent schema and migrations/ disagree; run `go run ./cmd/migrategen -name <change>`.\nDiff wrote %v:\n%s", written, b)
	}
}

// TestDiffWritesOnceThenNothing diffs into an empty directory: the first
// run writes the whole schema, the second finds nothing, and no scratch
// database is left behind.
func TestDiffWritesOnceThenNothing(t *testing.T) {
	url := adminURL(t)
	ctx := context.Background()
	before := scratchDatabases(t, url)
	dir := t.TempDir()

	written, err := migrategen.Diff(ctx, url, dir, "initial")
	if err != nil {
		t.Fatalf("first Diff: %v", err)
	}
	if len(written) != 2 {
		t.Fatalf("first Diff wrote %v; want one migration and atlas.sum", written)
	}
	var migration string
	for _, f := range written {
		if strings.HasSuffix(f, "_initial.sql") {
			migration = f
		}
	}
	if migration == "" || filepath.Join(dir, "atlas.sum") != written[0] && filepath.Join(dir, "atlas.sum") != written[1] {
		t.Fatalf("first Diff wrote %v; want <version>_initial.sql and atlas.sum", written)
	}
	sql, err := os.ReadFile(migration)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"-- +goose Up", "-- +goose Down", `CREATE TABLE "users"`, `CREATE TABLE "cases"`} {
		if !strings.Contains(string(sql), want) {
			t.Errorf("migration lacks %q", want)
		}
	}

	again, err := migrategen.Diff(ctx, url, dir, "again")
	if err != nil {
		t.Fatalf("second Diff: %v", err)
	}
	if len(again) != 0 {
		t.Fatalf("second Diff wrote %v; want nothing", again)
	}
	if after := scratchDatabases(t, url); after != before {
		t.Fatalf("scratch databases: %d before, %d after; Diff must drop its own", before, after)
	}
}

// TestRehashAcceptsHandWrittenMigration: a migration added by hand makes
// Diff refuse the directory until Rehash records its sum; the hand_ index
// it creates, which ent cannot declare, then survives the next diff.
func TestRehashAcceptsHandWrittenMigration(t *testing.T) {
	url := adminURL(t)
	ctx := context.Background()
	dir := copyMigrations(t)
	hand := "-- +goose Up\nCREATE INDEX hand_test_users_lower_name ON users (lower(display_name));\n\n-- +goose Down\nDROP INDEX hand_test_users_lower_name;\n"
	if err := os.WriteFile(filepath.Join(dir, "29991231000000_hand_test.sql"), []byte(hand), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := migrategen.Diff(ctx, url, dir, "refused"); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("Diff over an unhashed hand-written migration: %v; want a checksum error", err)
	}
	if err := migrategen.Rehash(dir); err != nil {
		t.Fatal(err)
	}
	written, err := migrategen.Diff(ctx, url, dir, "after_rehash")
	if err != nil {
		t.Fatalf("Diff after Rehash: %v", err)
	}
	if len(written) != 0 {
		b, _ := os.ReadFile(written[0])
		t.Fatalf("Diff after Rehash wrote %v (it must keep the hand_ index):\n%s", written, b)
	}
}

func TestDiffRejectsBadName(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"", "Add Users", "../escape", "x;y"} {
		// The URL is never used: the name is checked first.
		if _, err := migrategen.Diff(context.Background(), "postgres://invalid", dir, name); err == nil {
			t.Errorf("Diff accepted name %q", name)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("rejected names left files: %v", entries)
	}
}

// scratchDatabases counts the databases named like Diff's scratch ones.
func scratchDatabases(t *testing.T, url string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname LIKE 'migrategen\_%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
