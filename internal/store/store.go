// Package store opens the database once for the whole process and offers
// the one way to write domain rows and the River jobs they cause in a single
// transaction (see Store.InTx).
package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/recoverydesk/recoverydesk/ent"
)

// Store holds the process's connection pool and the clients built on it.
type Store struct {
	// Pool is the pgx pool every client below shares.
	Pool *pgxpool.Pool
	// DB is Pool seen through database/sql, for ent and goose.
	DB *sql.DB
	// Ent is the ent client for reads and single-statement writes outside
	// a transaction.
	Ent *ent.Client
	// Jobs inserts River jobs; it runs none (workers build their own
	// client on the same pool).
	Jobs *river.Client[pgx.Tx]
}

// Options tunes the pool; nil means defaults.
type Options struct {
	// MaxConns caps the pool; 0 means pool_max_conns from the URL, or
	// else DefaultMaxConns.
	MaxConns int32
}

// DefaultMaxConns is the pool size unless the URL or Options say
// otherwise: enough for ingestion's concurrent lanes, River's workers and
// web requests in one process (pgx's own default, max(4, CPUs), left
// ingestion and the desk queueing for connections on a 2-core machine).
const DefaultMaxConns = 12

// Open connects to url and checks the server answers.
func Open(ctx context.Context, url string, opts *Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: parse database URL: %w", err)
	}
	switch {
	case opts != nil && opts.MaxConns > 0:
		cfg.MaxConns = opts.MaxConns
	case !strings.Contains(url, "pool_max_conns="):
		cfg.MaxConns = DefaultMaxConns
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: open pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: ping database: %w", err)
	}
	jobs, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: river insert client: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	return &Store{
		Pool: pool,
		DB:   db,
		Ent:  ent.NewClient(ent.Driver(entsql.OpenDB(dialect.Postgres, db))),
		Jobs: jobs,
	}, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.Pool.Ping(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Close releases every connection.
func (s *Store) Close() {
	s.DB.Close()
	s.Pool.Close()
}
