package seed_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/internal/seed"
)

// TestBulk loads a small bulk data set into a fresh database and checks
// counts, references between tables, search and the queue; a second load
// is refused.
func TestBulk(t *testing.T) {
	ctx := context.Background()
	st := freshStore(t, ctx)
	now := time.Date(2026, time.November, 1, 12, 0, 0, 0, time.UTC)
	o := seed.BulkOptions{Accounts: 200, Projects: 500, Uploads: 2000, Cases: 1000, Messages: 5000, Seed: 7, Now: now}
	var progress strings.Builder
	o.Progress = &progress
	if _, err := seed.Bulk(ctx, st, o); err != nil {
		t.Fatalf("Bulk: %v", err)
	}
	if !strings.Contains(progress.String(), "release_files") {
		t.Errorf("progress does not name the tables:\n%s", progress.String())
	}
	count := func(q string) int {
		t.Helper()
		var n int
		if err := st.Pool.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	for q, want := range map[string]int{
		`SELECT count(*) FROM users WHERE staff_role = 'none'`:  200,
		`SELECT count(*) FROM users WHERE staff_role <> 'none'`: 6,
		`SELECT count(*) FROM projects`:                         500,
		`SELECT count(*) FROM release_files`:                    2000,
		`SELECT count(*) FROM cases`:                            1000,
		`SELECT count(*) FROM messages`:                         5000,
		`SELECT count(*) FROM case_search`:                      1000,
		`SELECT count(DISTINCT user_id) FROM email_addresses WHERE "primary" AND verified_at IS NOT NULL`: 206,
		// Every project has its owner; every upload is by an owner or maintainer.
		`SELECT count(DISTINCT project_id) FROM project_roles WHERE role = 'owner'`: 500,
		`SELECT count(*) FROM release_files f JOIN releases r ON r.id = f.release_id
			WHERE NOT EXISTS (SELECT 1 FROM project_roles pr WHERE pr.project_id = r.project_id AND pr.user_id = f.uploader_id)`: 0,
		`SELECT count(*) FROM messages WHERE case_id IS NULL`:                                                                               0,
		`SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.case_id = c.id)`:                                   0,
		`SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM case_participants p WHERE p.case_id = c.id AND p.role = 'requester')`: 0,
		// Dates and SLA fields agree with the statuses.
		`SELECT count(*) FROM cases WHERE status IN ('resolved', 'closed', 'denied') AND (resolved_at IS NULL OR sla_due IS NOT NULL)`:                   0,
		`SELECT count(*) FROM cases WHERE status NOT IN ('resolved', 'closed', 'denied') AND (resolved_at IS NOT NULL OR sla_due IS NULL)`:               0,
		`SELECT count(*) FROM cases WHERE first_responded_at < created_at OR last_activity_at < created_at OR last_activity_at > '2026-11-01T12:00:00Z'`: 0,
		`SELECT count(*) FROM messages m JOIN cases c ON c.id = m.case_id WHERE m.received_at < c.created_at OR m.received_at > c.last_activity_at`:      0,
	} {
		if got := count(q); got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
	if open := count(`SELECT count(*) FROM cases WHERE resolved_at IS NULL`); open == 0 || open > 500 {
		t.Errorf("%d open cases of 1000; want some, most settled", open)
	}

	// References are canonical.
	rows, err := st.Pool.Query(ctx, `SELECT reference FROM cases`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ref string
		if err := rows.Scan(&ref); err != nil {
			t.Fatal(err)
		}
		if got, ok := desk.NormalizeReference(ref); !ok || got != ref {
			t.Errorf("reference %q is not canonical", ref)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	// A word from a message body finds its case.
	var caseID int
	var body string
	if err := st.Pool.QueryRow(ctx, `SELECT case_id, body_text FROM messages WHERE direction = 'outbound' ORDER BY id DESC LIMIT 1`).Scan(&caseID, &body); err != nil {
		t.Fatal(err)
	}
	word := longestWord(strings.SplitN(body, "\n\n", 3)[1])
	if n := count(`SELECT count(*) FROM case_search WHERE case_id = ` + strconv.Itoa(caseID) + ` AND document @@ websearch_to_tsquery('english', '` + word + `')`); n != 1 {
		t.Errorf("case %d not found by %q from its message", caseID, word)
	}

	// The queue shows a page of open cases and finds cases by words.
	tr := desk.NewTriage(st, nil, nil, nil, "Recovery Desk", nil, desk.TriageOptions{Now: func() time.Time { return now }})
	page, err := tr.Queue(ctx, desk.QueueQuery{})
	if err != nil {
		t.Fatalf("Queue: %v", err)
	}
	if len(page.Rows) == 0 {
		t.Error("the queue shows no open case")
	}
	page, err = tr.Queue(ctx, desk.QueueQuery{AllStatuses: true, Search: "authenticator"})
	if err != nil {
		t.Fatalf("Queue search: %v", err)
	}
	if len(page.Rows) == 0 {
		t.Error("searching the queue for a common word finds nothing")
	}

	if _, err := seed.Bulk(ctx, st, o); !errors.Is(err, seed.ErrBulkExists) {
		t.Errorf("second Bulk: %v, want ErrBulkExists", err)
	}
	// The identity sequences moved past the copied ids.
	if n := count(`SELECT count(*) FROM cases WHERE id >= (SELECT nextval(pg_get_serial_sequence('cases', 'id')))`); n != 0 {
		t.Errorf("%d cases above the id sequence", n)
	}
}

// TestBulkKeepTriggers loads a few cases with the per-row search triggers
// on: case_search is filled all the same.
func TestBulkKeepTriggers(t *testing.T) {
	ctx := context.Background()
	st := freshStore(t, ctx)
	o := seed.BulkOptions{Accounts: 20, Projects: 10, Uploads: 30, Cases: 50, Messages: 200, Seed: 3, KeepTriggers: true}
	if _, err := seed.Bulk(ctx, st, o); err != nil {
		t.Fatalf("Bulk: %v", err)
	}
	var body string
	var caseID, cases, searchable int
	if err := st.Pool.QueryRow(ctx, `SELECT case_id, body_text FROM messages ORDER BY id DESC LIMIT 1`).Scan(&caseID, &body); err != nil {
		t.Fatal(err)
	}
	err := st.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM case_search),
		(SELECT count(*) FROM case_search WHERE case_id = $1 AND document @@ websearch_to_tsquery('english', $2))`,
		caseID, longestWord(strings.SplitN(body, "\n\n", 3)[1])).Scan(&cases, &searchable, &caseID)
	if err != nil {
		t.Fatal(err)
	}
	if cases != 50 || searchable != 50 || caseID != 1 {
		t.Errorf("%d cases, %d search documents, last message's case found %d times; want 50, 50, 1", cases, searchable, caseID)
	}
}

// longestWord of a text: unlikely to be a stop word search ignores.
func longestWord(text string) string {
	best := ""
	for _, w := range strings.Fields(text) {
		if w = strings.Trim(w, ".,"); len(w) > len(best) {
			best = w
		}
	}
	return best
}
