package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/recoverydesk/recoverydesk/ent"
)

// Tx is one database transaction seen by both ent and River: rows written
// through Ent and jobs added with Enqueue commit or roll back together,
// so no case exists without its evidence jobs and no reset happens without
// its notification mails.
type Tx struct {
	// Ent writes and reads inside the transaction.
	Ent *ent.Client
	// Pgx is the underlying transaction, for raw SQL (COPY, locks).
	Pgx     pgx.Tx
	jobs    *river.Client[pgx.Tx]
	pending []river.InsertManyParams
}

// Enqueue adds a River job to the transaction. Jobs are inserted together
// just before the commit, in one statement, so a transaction that stores
// many messages pays one round trip for all their jobs; they become
// visible to workers only if the transaction commits.
func (tx *Tx) Enqueue(args river.JobArgs, opts *river.InsertOpts) {
	tx.pending = append(tx.pending, river.InsertManyParams{Args: args, InsertOpts: opts})
}

// insertJobs inserts the pending jobs. A unique job added twice is
// inserted once: River's unique insert cannot take the same key twice in
// one statement, and the second would have been skipped anyway.
func (tx *Tx) insertJobs(ctx context.Context) error {
	if len(tx.pending) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, 0, len(tx.pending))
	seen := map[string]bool{}
	for _, p := range tx.pending {
		if unique(p) {
			b, err := json.Marshal(p)
			if err != nil {
				return fmt.Errorf("store: encode %s job: %w", p.Args.Kind(), err)
			}
			key := p.Args.Kind() + "\x00" + string(b)
			if seen[key] {
				continue
			}
			seen[key] = true
		}
		params = append(params, p)
	}
	if _, err := tx.jobs.InsertManyTx(ctx, tx.Pgx, params); err != nil {
		return fmt.Errorf("store: insert %d jobs: %w", len(params), err)
	}
	tx.pending = nil
	return nil
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
	if err := tx.insertJobs(ctx); err != nil {
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// unique reports whether a job is unique, by the options it is inserted
// with or, failing those, its own.
func unique(p river.InsertManyParams) bool {
	opts := p.InsertOpts
	if opts == nil {
		own, ok := p.Args.(river.JobArgsWithInsertOpts)
		if !ok {
			return false
		}
		o := own.InsertOpts()
		opts = &o
	}
	u := opts.UniqueOpts
	return u.ByArgs || u.ByPeriod != 0 || u.ByQueue || u.ByState != nil || u.ExcludeKind
}
