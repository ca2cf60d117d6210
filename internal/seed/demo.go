// Package seed fills a database with data to look at and log in with: a
// small, fixed demo set for `recoverydesk dev` and `recoverydesk seed`.
//
// The demo set is deterministic: every name, date, secret and file hash is
// derived from fixed values (an anchor date, fixed labels, a seeded PCG
// source), so two machines seeded at different times hold the same rows and
// print the same logins.
package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// Logins are the demo accounts, as `recoverydesk dev` prints them.
type Logins struct {
	// Accounts in a fixed order: users first, staff last.
	Accounts []Login
}

// Login is one demo account and what its owner still holds.
type Login struct {
	// Username signs in.
	Username string
	// Password is the account's fixed demo password.
	Password string
	// Situation says, for a person trying the demo, what the account shows.
	Situation string
	// TOTPSecret is the base32 authenticator secret, if the owner still has
	// the authenticator (empty for accounts whose story is that it is lost).
	TOTPSecret string
	// RecoveryCodes are the codes that are still unused, if any.
	RecoveryCodes []string
	// Role is "", "agent" or "admin": the account's desk staff role.
	Role string
}

// demoLockKey names the transaction-level advisory lock every seeder takes,
// so two processes seeding one database at once queue instead of racing
// (an arbitrary constant: "rdseed" in ASCII, distinct from the migrator's).
const demoLockKey int64 = 0x726473656564

// markerUsername is the account whose presence means the demo set is there.
const markerUsername = "alice"

// anchor is the fixed "present" of the demo set: every date in it is
// derived from this instant or written out in full, never from the clock.
func anchor() time.Time { return time.Date(2026, time.November, 1, 12, 0, 0, 0, time.UTC) }

// at is a UTC instant, for writing the demo's fixed dates briefly.
func at(year int, month time.Month, day, hour, minute int) time.Time {
	return time.Date(year, month, day, hour, minute, 0, 0, time.UTC)
}

// Demo creates the demo set in one transaction and returns its logins, or,
// when the set is already there (the marker user "alice" exists), returns
// the same logins with created false and changes nothing.
//
// now is accepted for data that must be relative to the present; the demo
// set currently has none, so every run writes identical rows.
func Demo(ctx context.Context, st *store.Store, now time.Time) (Logins, bool, error) {
	_ = now
	accounts := demoAccounts()
	logins := loginsOf(accounts)
	created := false
	err := st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		if _, err := tx.Pgx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", demoLockKey); err != nil {
			return fmt.Errorf("seed: take demo lock: %w", err)
		}
		exists, err := tx.Ent.User.Query().Where(user.UsernameNormalized(markerUsername)).Exist(ctx)
		if err != nil {
			return fmt.Errorf("seed: look for demo marker %q: %w", markerUsername, err)
		}
		if exists {
			return nil
		}
		if err := insertDemo(ctx, tx.Ent, accounts); err != nil {
			return err
		}
		// The recovery case gets its evidence jobs like any new case; a
		// worker (dev runs one) gathers the evidence.
		erin, err := tx.Ent.SupportCase.Query().Where(supportcase.Reference(erinCaseReference)).OnlyID(ctx)
		if err != nil {
			return fmt.Errorf("seed: find case %s: %w", erinCaseReference, err)
		}
		desk.EnqueueEvidence(tx, erin, true)
		created = true
		return nil
	})
	if err != nil {
		return Logins{}, false, err
	}
	return logins, created, nil
}

// insertDemo writes the whole demo set; accounts come first because
// projects, uploads and cases refer to them by username.
func insertDemo(ctx context.Context, client *ent.Client, accounts []accountSpec) error {
	users, err := insertAccounts(ctx, client, accounts)
	if err != nil {
		return err
	}
	if err := insertProjects(ctx, client, users); err != nil {
		return err
	}
	return insertCases(ctx, client, users)
}
