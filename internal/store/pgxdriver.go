package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pgxDriver lets ent run its statements on a pgx.Tx (ent issue 4295): the
// same transaction River inserts jobs into.
type pgxDriver struct {
	tx pgx.Tx
}

var _ dialect.Driver = (*pgxDriver)(nil)

func newPgxDriver(tx pgx.Tx) *pgxDriver { return &pgxDriver{tx: tx} }

// Exec runs a statement; v is nil or *sql.Result.
func (d *pgxDriver) Exec(ctx context.Context, query string, args, v any) error {
	argv, ok := args.([]any)
	if !ok {
		return fmt.Errorf("store: ent driver: args of type %T, want []any", args)
	}
	tag, err := d.tx.Exec(ctx, query, argv...)
	if err != nil {
		return err
	}
	switch v := v.(type) {
	case nil:
	case *sql.Result:
		*v = result(tag)
	default:
		return fmt.Errorf("store: ent driver: exec into %T, want *sql.Result", v)
	}
	return nil
}

// Query runs a query; v is *entsql.Rows.
func (d *pgxDriver) Query(ctx context.Context, query string, args, v any) error {
	vr, ok := v.(*entsql.Rows)
	if !ok {
		return fmt.Errorf("store: ent driver: query into %T, want *sql.Rows", v)
	}
	argv, ok := args.([]any)
	if !ok {
		return fmt.Errorf("store: ent driver: args of type %T, want []any", args)
	}
	rows, err := d.tx.Query(ctx, query, argv...)
	if err != nil {
		return err
	}
	*vr = entsql.Rows{ColumnScanner: &pgxRows{rows: rows}}
	return nil
}

// Tx opens a nested transaction (a savepoint), so code that calls
// client.Tx inside InTx still commits or rolls back with the outer one.
func (d *pgxDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	nested, err := d.tx.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: savepoint: %w", err)
	}
	return &pgxNestedTx{pgxDriver: pgxDriver{tx: nested}}, nil
}

// Close does nothing: InTx owns the transaction's end.
func (d *pgxDriver) Close() error { return nil }

// Dialect is PostgreSQL.
func (d *pgxDriver) Dialect() string { return dialect.Postgres }

type pgxNestedTx struct{ pgxDriver }

func (t *pgxNestedTx) Commit() error   { return t.tx.Commit(context.Background()) }
func (t *pgxNestedTx) Rollback() error { return t.tx.Rollback(context.Background()) }

type result pgconn.CommandTag

func (r result) LastInsertId() (int64, error) {
	return 0, errors.New("store: LastInsertId is not supported by PostgreSQL; use RETURNING")
}

func (r result) RowsAffected() (int64, error) { return pgconn.CommandTag(r).RowsAffected(), nil }

// pgxRows adapts pgx.Rows to ent's ColumnScanner.
type pgxRows struct {
	rows pgx.Rows
}

func (r *pgxRows) Close() error {
	r.rows.Close()
	return r.rows.Err()
}

// ColumnTypes is not available from pgx; ent then scans unknown columns
// into *any, which pgx supports.
func (r *pgxRows) ColumnTypes() ([]*sql.ColumnType, error) {
	return nil, errors.New("store: column types are not available on the pgx driver")
}

func (r *pgxRows) Columns() ([]string, error) {
	fds := r.rows.FieldDescriptions()
	if len(fds) == 0 {
		// pgx reports a failed statement (e.g. a unique violation on
		// INSERT … RETURNING) only once rows are read; a result without
		// columns has no rows, so reading surfaces the error safely.
		r.rows.Next()
		if err := r.rows.Err(); err != nil {
			return nil, err
		}
	}
	cols := make([]string, len(fds))
	for i, fd := range fds {
		cols[i] = fd.Name
	}
	return cols, nil
}

func (r *pgxRows) Err() error             { return r.rows.Err() }
func (r *pgxRows) Next() bool             { return r.rows.Next() }
func (r *pgxRows) NextResultSet() bool    { return false }
func (r *pgxRows) Scan(dest ...any) error { return r.rows.Scan(dest...) }
