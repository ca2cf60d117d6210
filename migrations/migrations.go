// Package migrations holds the versioned SQL migrations generated from the
// ent schema (goose format; `go run ./cmd/migrategen -name NAME` writes a
// new one) and applies them, together with River's own migrations, under
// one PostgreSQL advisory lock so that any number of processes may start at
// once.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed *.sql
var files embed.FS

// lockKey identifies the advisory lock every migrator takes; an arbitrary
// constant ("rdmigr" in ASCII) shared by all processes of this product.
const lockKey int64 = 0x72646d69677200

// Applied is what one Apply run changed.
type Applied struct {
	// Schema lists the schema migration files applied now.
	Schema []string
	// River lists the River migration versions applied now.
	River []int
}

// Apply brings the database up to date: our schema, then River's tables.
// It waits for the advisory lock, so concurrent callers run one after the
// other and all but the first find nothing to do. Running it on an
// up-to-date database changes nothing.
func Apply(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) (Applied, error) {
	var out Applied
	err := withLock(ctx, pool, func() error {
		provider, err := newProvider(pool)
		if err != nil {
			return err
		}
		results, err := provider.Up(ctx)
		if err != nil {
			return fmt.Errorf("migrations: apply schema: %w", err)
		}
		for _, r := range results {
			out.Schema = append(out.Schema, r.Source.Path)
			logger.Info("applied schema migration", "file", r.Source.Path, "duration", r.Duration)
		}
		// rivermigrate takes no lock and must not run inside an outer
		// transaction on a fresh database; our lock serialises it.
		migrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
		if err != nil {
			return fmt.Errorf("migrations: river migrator: %w", err)
		}
		res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
		if err != nil {
			return fmt.Errorf("migrations: apply river migrations: %w", err)
		}
		for _, v := range res.Versions {
			out.River = append(out.River, v.Version)
			logger.Info("applied river migration", "version", v.Version, "name", v.Name)
		}
		return nil
	})
	return out, err
}

// withLock holds the session-level advisory lock on a connection of its own
// while fn runs.
func withLock(ctx context.Context, pool *pgxpool.Pool, fn func() error) (err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrations: acquire lock connection: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return fmt.Errorf("migrations: take advisory lock: %w", err)
	}
	defer func() {
		// Unlock even when ctx is cancelled; a lost connection drops it anyway.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, uerr := conn.Exec(uctx, "SELECT pg_advisory_unlock($1)", lockKey); uerr != nil {
			err = errors.Join(err, fmt.Errorf("migrations: release advisory lock: %w", uerr))
		}
	}()
	return fn()
}

func newProvider(pool *pgxpool.Pool) (*goose.Provider, error) {
	p, err := goose.NewProvider(goose.DialectPostgres, stdlib.OpenDBFromPool(pool), files)
	if err != nil {
		return nil, fmt.Errorf("migrations: load schema migrations: %w", err)
	}
	return p, nil
}

// Item is one migration and whether it is applied.
type Item struct {
	// Name is the schema migration file, or "river NNN".
	Name    string
	Applied bool
	// AppliedAt is zero for River migrations (River does not record it
	// in a form we read) and for pending ones.
	AppliedAt time.Time
}

// Status lists every known migration, schema first, then River's.
func Status(ctx context.Context, pool *pgxpool.Pool) ([]Item, error) {
	provider, err := newProvider(pool)
	if err != nil {
		return nil, err
	}
	st, err := provider.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: schema status: %w", err)
	}
	var items []Item
	for _, s := range st {
		items = append(items, Item{Name: s.Source.Path, Applied: s.State == goose.StateApplied, AppliedAt: s.AppliedAt})
	}
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return nil, fmt.Errorf("migrations: river migrator: %w", err)
	}
	applied := map[int]bool{}
	existing, err := migrator.ExistingVersions(ctx)
	if err != nil && !isUndefinedTable(err) {
		return nil, fmt.Errorf("migrations: river status: %w", err)
	}
	for _, m := range existing {
		applied[m.Version] = true
	}
	for _, m := range migrator.AllVersions() {
		items = append(items, Item{Name: fmt.Sprintf("river %03d %s", m.Version, m.Name), Applied: applied[m.Version]})
	}
	return items, nil
}

// ErrPending means the database is reachable but not fully migrated.
var ErrPending = errors.New("migrations: pending migrations")

// Check returns nil when every migration is applied, ErrPending (wrapped,
// naming the first) when some are not; for readiness probes.
func Check(ctx context.Context, pool *pgxpool.Pool) error {
	items, err := Status(ctx, pool)
	if err != nil {
		return err
	}
	for _, it := range items {
		if !it.Applied {
			return fmt.Errorf("%w: %s", ErrPending, it.Name)
		}
	}
	return nil
}

func isUndefinedTable(err error) bool {
	var pgErr interface{ SQLState() string }
	return errors.As(err, &pgErr) && pgErr.SQLState() == "42P01"
}
