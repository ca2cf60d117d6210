package main_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/internal/audit"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// The test: a tampered row is named by `recoverydesk audit verify`.
func TestAuditVerifyNamesTamperedRow(t *testing.T) {
	url := testdb.Fresh(t)
	env := []string{"DATABASE_URL=" + url}
	if r := runCmd(t, env, "migrate"); r.code != 0 {
		t.Fatalf("migrate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCmd(t, env, "audit", "verify"); r.code != 0 || !strings.Contains(r.stdout, "audit log OK: 0 rows") {
		t.Fatalf("verify on an empty log: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	ctx := context.Background()
	st, err := store.Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows := make([]*ent.AuditEvent, 3)
	for i := range rows {
		err := st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
			var err error
			rows[i], err = audit.Append(ctx, tx, audit.Entry{
				ActorLabel: "admin bob", Action: "case.note", TargetType: "case", TargetID: fmt.Sprint(i),
				Details: map[string]any{"note": fmt.Sprintf("note %d", i)},
			})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if r := runCmd(t, env, "audit", "verify"); r.code != 0 || !strings.Contains(r.stdout, "audit log OK: 3 rows") {
		t.Fatalf("verify on an intact log: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	victim := rows[1]
	if _, err := st.Pool.Exec(ctx, `UPDATE audit_events SET details = '{"note": "nothing happened"}' WHERE id = $1`, victim.ID); err != nil {
		t.Fatal(err)
	}
	r := runCmd(t, env, "audit", "verify")
	want := fmt.Sprintf("audit log BROKEN at row %d (", victim.ID)
	if r.code != 1 || !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "case.note): hash does not match its contents") {
		t.Fatalf("verify on a tampered log: exit %d, want 1 and %q\nstdout: %s\nstderr: %s", r.code, want, r.stdout, r.stderr)
	}
}
