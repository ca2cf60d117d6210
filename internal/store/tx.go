package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/recoverydesk/recoverydesk/ent"
)

// Tx is one database transaction seen by both ent and River: rows written
// through Ent and jobs inserted with Enqueue commit or roll back together,
// so no case exists without its evidence jobs and no reset happens without
// its notification mails.
type Tx struct {
	// Ent writes and reads inside the transaction.
	Ent *ent.Client
	// Pgx is the underlying transaction, for raw SQL (COPY, locks).
	Pgx  pgx.Tx
	jobs *river.Client[pgx.Tx]
}

// Enqueue inserts a River job in the transaction; it becomes visible to
// workers only if the transaction commits.
func (tx *Tx) Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	res, err := tx.jobs.InsertTx(ctx, tx.Pgx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("store: enqueue %s: %w", args.Kind(), err)
	}
	return res, nil
}

// InTx runs fn in one transaction: committed if fn returns nil, rolled back
// if it returns an error or panics. ent and River share the same pgx
// transaction (ent drives it through a small dialect.Driver, see
// pgxdriver.go), because River's database/sql driver does not build with
// this River version.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) (err error) {
	ptx, err := s.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = ptx.Rollback(context.WithoutCancel(ctx))
			panic(p)
		}
		if err != nil {
			if rbErr := ptx.Rollback(context.WithoutCancel(ctx)); rbErr != nil && !errors.Is(rbErr, pgx.ErrTxClosed) {
				err = errors.Join(err, fmt.Errorf("store: rollback: %w", rbErr))
			}
		}
	}()
	tx := &Tx{Ent: ent.NewClient(ent.Driver(newPgxDriver(ptx))), Pgx: ptx, jobs: s.Jobs}
	if err := fn(ctx, tx); err != nil {
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}
