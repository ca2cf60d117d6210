// Package pgcluster finds the PostgreSQL server the program should use, as
// DESIGN.md "Running" describes: DATABASE_URL if set; else the server at
// localhost:5432; else, when PostgreSQL's server binaries are installed, a
// private cluster under the data directory, started for this process and
// stopped when it ends. In every case the database is created if missing.
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os/user"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultDatabase is the database name used when the URL names none.
const DefaultDatabase = "recoverydesk"

// Options says where to look.
type Options struct {
	// URL is DATABASE_URL; when set, nothing else is tried.
	URL string
	// Probe is the address tried when URL is empty; default localhost:5432.
	Probe string
	// Dir holds the private cluster (data, socket, log); required for the
	// fallback, e.g. ".data/postgres".
	Dir string
	// BinDir holds initdb and pg_ctl; empty means search PATH, then
	// /usr/lib/postgresql/*/bin.
	BinDir string
	// ForcePrivate skips the probe and always uses the private cluster.
	ForcePrivate bool
	// Database is the database to use and create; default DefaultDatabase
	// unless the URL names one.
	Database string
	// Logger reports which server was chosen.
	Logger *slog.Logger
}

// Result is the chosen database.
type Result struct {
	// URL connects to the database (created if it was missing).
	URL string
	// Cluster is the private cluster this process started, or nil.
	Cluster *Cluster
}

// Close stops the private cluster if this process started it.
func (r *Result) Close(ctx context.Context) error {
	if r.Cluster == nil {
		return nil
	}
	return r.Cluster.Stop(ctx)
}

// ErrNoServer means nothing answered and no server binaries were found.
var ErrNoServer = errors.New("pgcluster: no PostgreSQL server answers at localhost:5432 and no PostgreSQL server binaries (initdb, pg_ctl) are installed; install PostgreSQL or set DATABASE_URL")

// Discover picks the server, starting the private cluster if needed, and
// makes sure the database exists.
func Discover(ctx context.Context, o Options) (*Result, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Probe == "" {
		o.Probe = "localhost:5432"
	}
	if o.URL != "" {
		u, err := withDatabase(o.URL, o.Database)
		if err != nil {
			return nil, err
		}
		if err := EnsureDatabase(ctx, u); err != nil {
			return nil, err
		}
		return &Result{URL: u}, nil
	}
	if !o.ForcePrivate {
		u, err := probe(ctx, o.Probe, o.Database)
		if err == nil {
			o.Logger.Info("using PostgreSQL", "server", o.Probe)
			if err := EnsureDatabase(ctx, u); err != nil {
				return nil, err
			}
			return &Result{URL: u}, nil
		}
		if !isRefused(err) {
			return nil, fmt.Errorf("pgcluster: PostgreSQL at %s answered but refused us (set DATABASE_URL): %w", o.Probe, err)
		}
		o.Logger.Info("no PostgreSQL answers; starting a private cluster", "probe", o.Probe, "dir", o.Dir)
	}
	if o.Dir == "" {
		return nil, errors.New("pgcluster: no data directory for the private cluster")
	}
	c, err := Start(ctx, o.Dir, o.BinDir, o.Logger)
	if err != nil {
		return nil, err
	}
	u := c.URL(dbName(o.Database))
	if err := EnsureDatabase(ctx, u); err != nil {
		return nil, errors.Join(err, c.Stop(context.WithoutCancel(ctx)))
	}
	return &Result{URL: u, Cluster: c}, nil
}

// probe tries the default server, first as the OS user (libpq's default,
// honouring PGUSER/PGPASSWORD) and then as "postgres".
func probe(ctx context.Context, addr, database string) (string, error) {
	var firstErr error
	for _, name := range probeUsers() {
		u := (&url.URL{Scheme: "postgres", User: url.User(name), Host: addr, Path: "/" + dbName(database), RawQuery: "sslmode=prefer"}).String()
		err := ping(ctx, maintenanceURL(u))
		if err == nil {
			return u, nil
		}
		if isRefused(err) {
			return "", err
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return "", firstErr
}

func probeUsers() []string {
	var names []string
	if u, err := user.Current(); err == nil && u.Username != "postgres" {
		names = append(names, u.Username)
	}
	return append(names, "postgres")
}

func ping(ctx context.Context, u string) error {
	conn, err := pgx.Connect(ctx, withoutPoolParams(u))
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// isRefused reports whether nothing listens, as opposed to a server that
// answered and said no.
func isRefused(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return false
	}
	var connErr *pgconn.ConnectError
	return errors.As(err, &connErr)
}

func dbName(name string) string {
	if name == "" {
		return DefaultDatabase
	}
	return name
}

// withDatabase sets the database of raw when it names none (or when name
// overrides it).
func withDatabase(raw, name string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("pgcluster: DATABASE_URL: %w", err)
	}
	if name != "" || u.Path == "" || u.Path == "/" {
		u.Path = "/" + dbName(name)
	}
	return u.String(), nil
}

// maintenanceURL points u at the "postgres" database, from which others are
// created.
func maintenanceURL(raw string) string {
	u, err := url.Parse(withoutPoolParams(raw))
	if err != nil {
		return raw
	}
	u.Path = "/postgres"
	return u.String()
}

// withoutPoolParams drops pgxpool's settings (pool_max_conns, ...) from a
// URL, which a single pgx connection would send to the server as unknown
// parameters.
func withoutPoolParams(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
