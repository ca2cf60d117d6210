package migrations_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/migrations"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func pool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func TestApplyTwiceIsANoOp(t *testing.T) {
	ctx := context.Background()
	p := pool(t, testdb.Fresh(t))
	if err := migrations.Check(ctx, p); !errors.Is(err, migrations.ErrPending) {
		t.Fatalf("fresh database: Check = %v, want ErrPending", err)
	}
	first, err := migrations.Apply(ctx, p, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Schema) == 0 || len(first.River) == 0 {
		t.Fatalf("first run applied %+v; want schema and river migrations", first)
	}
	second, err := migrations.Apply(ctx, p, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Schema) != 0 || len(second.River) != 0 {
		t.Fatalf("second run applied %+v; want nothing", second)
	}
	if err := migrations.Check(ctx, p); err != nil {
		t.Fatalf("Check after Apply: %v", err)
	}
	items, err := migrations.Status(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if !it.Applied {
			t.Errorf("%s not applied", it.Name)
		}
	}
}

// Several processes starting at once on a fresh database: each has its own
// pool (as separate processes would); all must succeed, and the migrations
// are applied exactly once between them.
func TestConcurrentMigrators(t *testing.T) {
	ctx := context.Background()
	url := testdb.Fresh(t)
	const n = 6
	var wg sync.WaitGroup
	results := make([]migrations.Applied, n)
	errs := make([]error, n)
	for i := range n {
		p := pool(t, url)
		wg.Go(func() {
			results[i], errs[i] = migrations.Apply(ctx, p, slog.New(slog.DiscardHandler))
		})
	}
	wg.Wait()
	schema, river := 0, 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("migrator %d: %v", i, errs[i])
		}
		schema += len(results[i].Schema)
		river += len(results[i].River)
	}
	p := pool(t, url)
	items, err := migrations.Status(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if schema+river != len(items) {
		t.Fatalf("%d schema + %d river migrations applied across migrators, want each of %d exactly once", schema, river, len(items))
	}
	var versions int
	if err := p.QueryRow(ctx, `SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if versions != schema {
		t.Fatalf("goose recorded %d versions, want %d", versions, schema)
	}
}
