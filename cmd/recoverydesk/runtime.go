package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/recoverydesk/recoverydesk/internal/config"
	"github.com/recoverydesk/recoverydesk/internal/pgcluster"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/migrations"
)

// runtime is what a long-running or database command holds: its
// configuration, logger and database.
type runtime struct {
	cfg      config.Config
	log      *slog.Logger
	db       *pgcluster.Result
	store    *store.Store
	migrated atomic.Bool
}

// setup loads the configuration for mode, finds (or starts) PostgreSQL,
// opens the store and, when migrate is true, applies migrations.
func setup(ctx context.Context, c *cli, mode config.Mode, migrate bool) (*runtime, error) {
	cfg, err := config.Load(mode, c.getenv)
	if err != nil {
		return nil, err
	}
	rt := &runtime{cfg: cfg, log: newLogger(cfg, c.stderr)}
	rt.db, err = pgcluster.Discover(ctx, pgcluster.Options{
		URL:          cfg.DatabaseURL,
		Dir:          filepath.Join(cfg.DataDir, "postgres"),
		ForcePrivate: cfg.PrivateCluster,
		Logger:       rt.log,
	})
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	rt.store, err = store.Open(ctx, rt.db.URL, nil)
	if err != nil {
		rt.closeDB()
		return nil, fmt.Errorf("database: %w", err)
	}
	if migrate {
		if _, err := migrations.Apply(ctx, rt.store.Pool, rt.log); err != nil {
			rt.close()
			return nil, err
		}
		rt.migrated.Store(true)
	}
	return rt, nil
}

// ready is the /readyz check: the database answers and every migration
// is applied (checked until it first holds; migrations only move forward).
func (rt *runtime) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := rt.store.Ping(ctx); err != nil {
		return errors.New("database unreachable")
	}
	if rt.migrated.Load() {
		return nil
	}
	if err := migrations.Check(ctx, rt.store.Pool); err != nil {
		if errors.Is(err, migrations.ErrPending) {
			return errors.New("migrations pending")
		}
		return errors.New("migration status unknown")
	}
	rt.migrated.Store(true)
	return nil
}

func (rt *runtime) close() {
	if rt.store != nil {
		rt.store.Close()
	}
	rt.closeDB()
}

// closeDB stops the private cluster if this process started it; it runs
// even after ctx was cancelled by a signal.
func (rt *runtime) closeDB() {
	if rt.db == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := rt.db.Close(ctx); err != nil {
		rt.log.Error("stop private PostgreSQL cluster", "err", err)
	}
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
