package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// EnsureDatabase creates the database named in rawURL if it does not exist.
// Safe to call from several processes at once.
func EnsureDatabase(ctx context.Context, rawURL string) error {
	name, err := DatabaseName(rawURL)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, maintenanceURL(rawURL))
	if err != nil {
		return fmt.Errorf("pgcluster: connect to create database %q: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("pgcluster: look up database %q: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505") {
		return nil // another process created it first
	}
	if err != nil {
		return fmt.Errorf("pgcluster: create database %q: %w", name, err)
	}
	return nil
}

// DropDatabase removes the database named in rawURL, disconnecting its
// sessions; for tests and scratch databases.
func DropDatabase(ctx context.Context, rawURL string) error {
	name, err := DatabaseName(rawURL)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, maintenanceURL(rawURL))
	if err != nil {
		return fmt.Errorf("pgcluster: connect to drop database %q: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("pgcluster: drop database %q: %w", name, err)
	}
	return nil
}

// DatabaseName returns the database a URL names.
func DatabaseName(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("pgcluster: database URL: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return "", fmt.Errorf("pgcluster: database URL names no database")
	}
	return name, nil
}

// WithDatabase returns rawURL pointing at database name.
func WithDatabase(rawURL, name string) (string, error) {
	return withDatabase(rawURL, name)
}
