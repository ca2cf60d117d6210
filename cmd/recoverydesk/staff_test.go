package main_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/auditevent"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// TestStaffGrantRevokeList runs the real command as an operator would.
func TestStaffGrantRevokeList(t *testing.T) {
	url := testdb.Fresh(t)
	env := []string{"DATABASE_URL=" + url}
	if r := runCmd(t, env, "migrate"); r.code != 0 {
		t.Fatalf("migrate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	person := func(name string, verified bool) *ent.User {
		t.Helper()
		u, err := st.Ent.User.Create().SetUsername(name).SetUsernameNormalized(name).SetDisplayName(name).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		e := st.Ent.EmailAddress.Create().SetUserID(u.ID).SetAddress(name + "@example.org").
			SetAddressNormalized(name + "@example.org").SetPrimary(true)
		if verified {
			e.SetVerifiedAt(time.Now())
		}
		if err := e.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		return u
	}
	alice := person("alice", true)
	person("bob", false)
	role := func() user.StaffRole {
		t.Helper()
		return st.Ent.User.GetX(ctx, alice.ID).StaffRole
	}
	audits := func(action string) int {
		t.Helper()
		return st.Ent.AuditEvent.Query().Where(auditevent.Action(action), auditevent.ActorLabel("cli (operator)"), auditevent.TargetID("1")).CountX(ctx)
	}
	if alice.ID != 1 {
		t.Fatalf("alice has id %d; the audit count assumes 1 in a fresh database", alice.ID)
	}

	for _, tc := range []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"staff"}, 2, "missing subcommand"},
		{[]string{"staff", "promote", "alice@example.org"}, 2, `unknown subcommand "promote"`},
		{[]string{"staff", "grant", "alice@example.org"}, 2, `--role must be "agent" or "admin"`},
		{[]string{"staff", "grant", "alice@example.org", "--role", "owner"}, 2, `not "owner"`},
		{[]string{"staff", "grant", "--role", "agent"}, 2, "exactly one EMAIL"},
		{[]string{"staff", "grant", "nobody@example.org", "--role", "agent"}, 1, "no account has the address nobody@example.org"},
		{[]string{"staff", "grant", "bob@example.org", "--role", "agent"}, 1, "is not verified"},
		{[]string{"staff", "revoke"}, 2, "exactly one EMAIL"},
	} {
		r := runCmd(t, env, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.contains) {
			t.Errorf("%q: exit %d, want %d and %q\n%s%s", tc.args, r.code, tc.code, tc.contains, r.stdout, r.stderr)
		}
	}
	if role() != user.StaffRoleNone || audits("staff.grant") != 0 {
		t.Fatal("a refused grant changed something")
	}

	r := runCmd(t, env, "staff", "grant", "ALICE@example.org", "--role", "agent")
	if r.code != 0 || !strings.Contains(r.stdout, "granted: alice") || !strings.Contains(r.stderr, "warning: alice has no second factor") {
		t.Fatalf("grant agent: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if role() != user.StaffRoleAgent || audits("staff.grant") != 1 {
		t.Fatalf("after grant: role %s, %d audit rows", role(), audits("staff.grant"))
	}
	if r := runCmd(t, env, "staff", "grant", "--role", "agent", "alice@example.org"); r.code != 0 || !strings.Contains(r.stdout, "already agent") || audits("staff.grant") != 1 {
		t.Fatalf("grant again: exit %d, %d audit rows\n%s%s", r.code, audits("staff.grant"), r.stdout, r.stderr)
	}
	if r := runCmd(t, env, "staff", "grant", "alice@example.org", "--role", "admin"); r.code != 0 || role() != user.StaffRoleAdmin || audits("staff.grant") != 2 {
		t.Fatalf("promote to admin: exit %d role %s\n%s%s", r.code, role(), r.stdout, r.stderr)
	}
	if r := runCmd(t, env, "staff", "list"); r.code != 0 || !strings.Contains(r.stdout, "admin") || !strings.Contains(r.stdout, "alice@example.org") || !strings.Contains(r.stdout, "no 2FA") {
		t.Fatalf("list: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCmd(t, env, "staff", "revoke", "alice@example.org"); r.code != 0 || !strings.Contains(r.stdout, "no longer admin") {
		t.Fatalf("revoke: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if role() != user.StaffRoleNone || audits("staff.revoke") != 1 {
		t.Fatalf("after revoke: role %s, %d audit rows", role(), audits("staff.revoke"))
	}
	if r := runCmd(t, env, "staff", "list"); r.code != 0 || !strings.Contains(r.stdout, "no staff") {
		t.Fatalf("list after revoke: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCmd(t, env, "audit", "verify"); r.code != 0 || !strings.Contains(r.stdout, "audit log OK: 3 rows") {
		t.Fatalf("audit verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
