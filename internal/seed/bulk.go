package seed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// BulkPassword is the password of every bulk account and staff member:
// hashing 100k passwords with argon2id would take longer than the rest of
// the load, so one hash is computed per run and shared by all of them.
const BulkPassword = "bulk-seed-password"

// bulkMarker is the bulk admin's username; its presence means a bulk load
// already ran on this database.
const bulkMarker = "bulk-admin"

// ErrBulkExists is returned when the database already holds bulk data.
var ErrBulkExists = errors.New("seed: bulk data is already loaded (user " + bulkMarker + " exists); use a fresh database")

// BulkOptions size a bulk load. Zero sizes load nothing of that kind.
type BulkOptions struct {
	Accounts, Projects, Uploads, Cases, Messages int
	// Seed makes the data reproducible: the same seed and sizes give the
	// same rows (dates are relative to Now).
	Seed uint64
	// Now is the present the dates lead up to.
	Now time.Time
	// KeepTriggers loads cases and messages with the case_search triggers
	// firing per row, instead of disabling them and building case_search
	// in one statement afterwards (much faster).
	KeepTriggers bool
	// Progress receives a line per table; nil discards.
	Progress io.Writer
}

// BulkTargets are issue 7's volumes.
var BulkTargets = BulkOptions{Accounts: 100_000, Projects: 300_000, Uploads: 3_000_000, Cases: 1_000_000, Messages: 5_000_000, Seed: 7}

// BulkTable is what was loaded into one table and how long it took.
type BulkTable struct {
	Name    string
	Rows    int64
	Elapsed time.Duration
}

// bulkStaff are the staff members bulk cases are assigned to; the last
// one is the admin (and the marker).
var bulkStaff = []string{"bulk-agent-1", "bulk-agent-2", "bulk-agent-3", "bulk-agent-4", "bulk-agent-5", bulkMarker}

// Bulk loads large, realistic volumes with COPY in one transaction:
// accounts with verified emails and TOTP, projects with owners and
// maintainers, releases and their uploads over years, cases in a realistic
// status mix with participants and threaded messages, and the queue's
// search documents. It refuses to run twice on one database.
func Bulk(ctx context.Context, st *store.Store, o BulkOptions) ([]BulkTable, error) {
	if o.Accounts < 1 && (o.Projects > 0 || o.Cases > 0) {
		return nil, errors.New("seed: bulk projects and cases need at least one account")
	}
	if o.Projects < 1 && o.Uploads > 0 {
		return nil, errors.New("seed: bulk uploads need at least one project")
	}
	if o.Cases < 1 && o.Messages > 0 {
		return nil, errors.New("seed: bulk messages need at least one case")
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = o.Now.UTC().Truncate(time.Second)
	out := o.Progress
	if out == nil {
		out = io.Discard
	}
	hash, err := account.HashPassword(BulkPassword, account.DefaultPasswordParams)
	if err != nil {
		return nil, fmt.Errorf("seed: bulk password: %w", err)
	}
	tx, err := st.Pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("seed: bulk: begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit this is a no-op
	// The marker check and the load are one transaction; the unique
	// username index turns a concurrent second load into an error.
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE username_normalized = $1)`, bulkMarker).Scan(&exists); err != nil {
		return nil, fmt.Errorf("seed: bulk: marker: %w", err)
	}
	if exists {
		return nil, ErrBulkExists
	}
	if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off; SET LOCAL maintenance_work_mem = '512MB'; SET LOCAL work_mem = '256MB'`); err != nil {
		return nil, fmt.Errorf("seed: bulk: settings: %w", err)
	}
	g, err := newBulkGen(ctx, tx, o, hash)
	if err != nil {
		return nil, err
	}
	if !o.KeepTriggers {
		if _, err := tx.Exec(ctx, `ALTER TABLE cases DISABLE TRIGGER case_search_case_insert;
			ALTER TABLE messages DISABLE TRIGGER case_search_message_insert`); err != nil {
			return nil, fmt.Errorf("seed: bulk: disable search triggers: %w", err)
		}
	}
	var report []BulkTable
	step := func(name string, fn func() (int64, error)) error {
		start := time.Now()
		n, err := fn()
		if err != nil {
			return fmt.Errorf("seed: bulk %s: %w", name, err)
		}
		t := BulkTable{Name: name, Rows: n, Elapsed: time.Since(start)}
		report = append(report, t)
		fmt.Fprintf(out, "%-18s %10d rows %8.1fs %10.0f rows/s\n", t.Name, t.Rows, t.Elapsed.Seconds(), float64(t.Rows)/max(t.Elapsed.Seconds(), 1e-9))
		return nil
	}
	copyStep := func(table string, cols []string, src pgx.CopyFromSource) error {
		return step(table, func() (int64, error) {
			return tx.CopyFrom(ctx, pgx.Identifier{table}, cols, src)
		})
	}
	steps := []func() error{
		func() error { return copyStep("users", g.userCols(), g.users()) },
		func() error { return copyStep("email_addresses", g.emailCols(), g.emails()) },
		func() error { return copyStep("totp_credentials", g.totpCols(), g.totps()) },
		func() error { return copyStep("projects", g.projectCols(), g.projects()) },
		func() error { return copyStep("project_roles", g.roleCols(), g.roles()) },
		func() error { return copyStep("releases", g.releaseCols(), g.releases()) },
		func() error { return copyStep("release_files", g.fileCols(), g.files()) },
		func() error { return copyStep("cases", g.caseCols(), g.cases()) },
		func() error { return copyStep("case_participants", g.participantCols(), g.participants()) },
		func() error { return copyStep("messages", g.messageCols(), g.messages()) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return report, err
		}
	}
	if !o.KeepTriggers {
		err := step("case_search", func() (int64, error) { return g.buildSearch(ctx, tx) })
		if err != nil {
			return report, err
		}
		if _, err := tx.Exec(ctx, `ALTER TABLE cases ENABLE TRIGGER case_search_case_insert;
			ALTER TABLE messages ENABLE TRIGGER case_search_message_insert`); err != nil {
			return report, fmt.Errorf("seed: bulk: enable search triggers: %w", err)
		}
	}
	// Rows were copied with explicit ids; move the identity sequences
	// past them so the application's inserts do not collide.
	for _, t := range []string{"users", "projects", "releases", "cases"} {
		if _, err := tx.Exec(ctx, fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT max(id) FROM %s))`, t, t)); err != nil {
			return report, fmt.Errorf("seed: bulk: sequence of %s: %w", t, err)
		}
	}
	err = step("commit+analyze", func() (int64, error) {
		if err := tx.Commit(ctx); err != nil {
			return 0, err
		}
		_, err := st.Pool.Exec(ctx, `ANALYZE users, email_addresses, totp_credentials, projects, project_roles, releases, release_files, cases, case_participants, messages, case_search`)
		return 0, err
	})
	return report, err
}
