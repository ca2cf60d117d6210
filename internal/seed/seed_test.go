package seed_test

import (
	"context"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/internal/seed"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/migrations"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// demoAnchor is the seed's fixed "present"; no demo row may be later.
var demoAnchor = time.Date(2026, time.November, 1, 12, 0, 0, 0, time.UTC)

// TestDemo seeds the package database, checks what each account's story
// needs, then seeds again and checks nothing changed.
func TestDemo(t *testing.T) {
	ctx := context.Background()
	st := testdb.Store(t)

	logins, created, err := seed.Demo(ctx, st, time.Now())
	if err != nil {
		t.Fatalf("Demo: %v", err)
	}
	if !created {
		t.Fatal("first Demo reported created=false on an empty database")
	}
	checkLogins(t, ctx, st, logins)
	checkProjects(t, ctx, st)
	checkCases(t, ctx, st)
	checkNoClockDates(t, ctx, st)

	before := rowCounts(t, ctx, st)
	digest := fingerprint(t, ctx, st)
	again, created, err := seed.Demo(ctx, st, time.Now().Add(48*time.Hour))
	if err != nil {
		t.Fatalf("second Demo: %v", err)
	}
	if created {
		t.Error("second Demo reported created=true")
	}
	if !reflect.DeepEqual(again, logins) {
		t.Errorf("second Demo returned other logins:\n got %+v\nwant %+v", again, logins)
	}
	if after := rowCounts(t, ctx, st); !reflect.DeepEqual(after, before) {
		t.Errorf("row counts changed on second Demo:\n got %v\nwant %v", after, before)
	}
	if got := fingerprint(t, ctx, st); got != digest {
		t.Error("demo rows changed on second Demo")
	}
}

// TestDemoConcurrent seeds a fresh database from two goroutines at once:
// both succeed, one creates, and there is one set of rows — the same rows
// a lone seeding writes elsewhere.
func TestDemoConcurrent(t *testing.T) {
	ctx := context.Background()
	st := freshStore(t, ctx)

	type outcome struct {
		logins  seed.Logins
		created bool
		err     error
	}
	var wg sync.WaitGroup
	results := make([]outcome, 2)
	start := make(chan struct{})
	for i := range results {
		wg.Go(func() {
			<-start
			l, c, err := seed.Demo(ctx, st, time.Now())
			results[i] = outcome{l, c, err}
		})
	}
	close(start)
	wg.Wait()

	createdCount := 0
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("Demo %d: %v", i, r.err)
		}
		if r.created {
			createdCount++
		}
	}
	if createdCount != 1 {
		t.Fatalf("%d of 2 concurrent Demo calls created the set, want exactly 1", createdCount)
	}
	if !reflect.DeepEqual(results[0].logins, results[1].logins) {
		t.Error("concurrent Demo calls returned different logins")
	}
	counts := rowCounts(t, ctx, st)
	if counts["users"] != 7 || counts["cases"] != 2 || counts["organizations"] != 1 || counts["projects"] != 7 {
		t.Errorf("unexpected row counts after concurrent seeding: %v", counts)
	}

	// Determinism: a second database seeded on its own holds the same rows.
	other := freshStore(t, ctx)
	if _, _, err := seed.Demo(ctx, other, time.Now().Add(-24*time.Hour)); err != nil {
		t.Fatalf("Demo on second database: %v", err)
	}
	if got := rowCounts(t, ctx, other); !reflect.DeepEqual(got, counts) {
		t.Errorf("row counts differ between databases:\n got %v\nwant %v", got, counts)
	}
	if fingerprint(t, ctx, other) != fingerprint(t, ctx, st) {
		t.Error("two seeded databases hold different demo rows")
	}
}

// freshStore is a store on a new, migrated database of its own, so a test
// can watch the seed run on an empty one whatever other tests did.
func freshStore(t *testing.T, ctx context.Context) *store.Store {
	t.Helper()
	url := testdb.Fresh(t)
	st, err := store.Open(ctx, url, nil)
	if err != nil {
		t.Fatalf("open fresh store: %v", err)
	}
	t.Cleanup(st.Close)
	if _, err := migrations.Apply(ctx, st.Pool, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("migrate fresh database: %v", err)
	}
	return st
}

// demoTables are the tables the demo set writes.
var demoTables = []string{
	"users", "email_addresses", "totp_credentials", "recovery_codes", "webauthn_credentials",
	"organizations", "organization_members", "projects", "project_roles", "api_tokens",
	"releases", "release_files", "cases", "case_participants", "messages",
}

func rowCounts(t *testing.T, ctx context.Context, st *store.Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range demoTables {
		var n int
		if err := st.Pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

// fingerprint digests the demo rows by content (not by generated IDs or
// salted password hashes), to compare databases and runs.
func fingerprint(t *testing.T, ctx context.Context, st *store.Store) string {
	t.Helper()
	const q = `SELECT md5(string_agg(r, E'\n' ORDER BY r)) FROM (
		SELECT concat_ws(',', 'u', username, created_at, updated_at, last_login_at, staff_role, password_changed_at) AS r FROM users
		UNION ALL SELECT concat_ws(',', 'e', address, e.created_at, verified_at, "primary", u.username) FROM email_addresses e JOIN users u ON u.id = e.user_id
		UNION ALL SELECT concat_ws(',', 't', encode(secret, 'hex'), t.created_at, confirmed_at, u.username) FROM totp_credentials t JOIN users u ON u.id = t.user_id
		UNION ALL SELECT concat_ws(',', 'c', code_hash, used_at, c.created_at, u.username) FROM recovery_codes c JOIN users u ON u.id = c.user_id
		UNION ALL SELECT concat_ws(',', 'w', name, encode(credential_id, 'hex'), encode(public_key, 'hex'), w.created_at, w.last_used_at) FROM webauthn_credentials w
		UNION ALL SELECT concat_ws(',', 'p', p.name, p.created_at, repository_url, r.role, r.created_at, u.username) FROM projects p JOIN project_roles r ON r.project_id = p.id JOIN users u ON u.id = r.user_id
		UNION ALL SELECT concat_ws(',', 'k', prefix, encode(token_hash, 'hex'), k.created_at, k.last_used_at, u.username) FROM api_tokens k JOIN users u ON u.id = k.user_id
		UNION ALL SELECT concat_ws(',', 'f', p.name, r.version, r.created_at, f.filename, f.size, f.sha256, f.uploaded_at, f.ip, u.username, k.prefix)
			FROM release_files f JOIN releases r ON r.id = f.release_id JOIN projects p ON p.id = r.project_id
			JOIN users u ON u.id = f.uploader_id JOIN api_tokens k ON k.id = f.api_token_id
		UNION ALL SELECT concat_ws(',', 's', reference, kind, status, created_at, updated_at, last_activity_at, intake::text, encode(status_token_hash, 'hex')) FROM cases
		UNION ALL SELECT concat_ws(',', 'm', message_id_header, direction, channel, received_at, created_at, md5(body_text)) FROM messages
	) rows`
	var digest string
	if err := st.Pool.QueryRow(ctx, q).Scan(&digest); err != nil {
		t.Fatalf("fingerprint: %v", err)
	}
	return digest
}

// checkNoClockDates fails if any demo row carries a date after the anchor,
// which would mean a timestamp came from the clock (a column default).
func checkNoClockDates(t *testing.T, ctx context.Context, st *store.Store) {
	t.Helper()
	cols := map[string][]string{
		"users":                {"created_at", "updated_at", "last_login_at", "password_changed_at"},
		"email_addresses":      {"created_at", "verified_at"},
		"totp_credentials":     {"created_at", "confirmed_at"},
		"recovery_codes":       {"created_at", "used_at"},
		"webauthn_credentials": {"created_at", "last_used_at"},
		"organizations":        {"created_at"},
		"organization_members": {"created_at"},
		"projects":             {"created_at"},
		"project_roles":        {"created_at"},
		"api_tokens":           {"created_at", "last_used_at"},
		"releases":             {"created_at"},
		"release_files":        {"uploaded_at"},
		"cases":                {"created_at", "updated_at", "last_activity_at", "first_responded_at"},
		"case_participants":    {"created_at"},
		"messages":             {"created_at", "received_at"},
	}
	for table, columns := range cols {
		for _, col := range columns {
			var n int
			q := "SELECT count(*) FROM " + table + " WHERE " + col + " > $1"
			if err := st.Pool.QueryRow(ctx, q, demoAnchor).Scan(&n); err != nil {
				t.Fatalf("check %s.%s: %v", table, col, err)
			}
			if n > 0 {
				t.Errorf("%d rows of %s have %s after the anchor %s (taken from the clock?)", n, table, col, demoAnchor)
			}
		}
	}
}
