package account_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent/auditevent"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/audit"
)

func TestStaffRoleGrantRevoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, st := newServices(t)
	u, _, token := signedIn(t, s, st)
	address := u.Username + "@example.org"
	unverified := makeUser(t, st.Ent)
	if err := st.Ent.EmailAddress.Create().SetUserID(unverified.ID).SetAddress("u-" + address).SetAddressNormalized("u-" + address).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	operatorRows := func(action string) int {
		t.Helper()
		return st.Ent.AuditEvent.Query().Where(auditevent.ActorLabel(account.OperatorLabel), auditevent.Action(action), auditevent.ActorIDIsNil()).CountX(ctx)
	}
	roleSeen := func() string {
		t.Helper()
		sess, err := s.Sessions.Lookup(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		return sess.StaffRole
	}

	for name, err := range map[string]error{
		"bad role": func() error { _, err := account.GrantStaff(ctx, st, address, "owner"); return err }(),
		"unknown":  func() error { _, err := account.GrantStaff(ctx, st, "nobody-"+address, account.RoleAgent); return err }(),
	} {
		if err == nil {
			t.Errorf("%s: granted", name)
		}
	}
	if _, err := account.GrantStaff(ctx, st, "u-"+address, account.RoleAdmin); !errors.Is(err, account.ErrAddressUnverified) {
		t.Errorf("unverified address: %v", err)
	}
	if _, err := account.GrantStaff(ctx, st, "nobody-"+address, account.RoleAdmin); !errors.Is(err, account.ErrUnknownAddress) {
		t.Errorf("unknown address: %v", err)
	}

	ch, err := account.GrantStaff(ctx, st, address, account.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if !ch.Changed || ch.UserID != u.ID || ch.SecondFactor || ch.From != account.RoleNone {
		t.Errorf("grant = %+v", ch)
	}
	// The live session sees the role at its next request.
	if got := roleSeen(); got != account.RoleAdmin {
		t.Errorf("session role %q after grant", got)
	}
	if n := countEvents(t, st, u.ID, account.EventStaffRoleGranted); n != 1 {
		t.Errorf("%d grant events", n)
	}
	if ch, err := account.GrantStaff(ctx, st, address, account.RoleAdmin); err != nil || ch.Changed {
		t.Errorf("grant again = %+v, %v; want no change", ch, err)
	}
	if _, err := account.RevokeStaff(ctx, st, address); err != nil {
		t.Fatal(err)
	}
	if got := roleSeen(); got != account.RoleNone {
		t.Errorf("session role %q after revoke, want none at once", got)
	}
	if got := st.Ent.User.GetX(ctx, u.ID).StaffRole; got != user.StaffRoleNone {
		t.Errorf("role %s after revoke", got)
	}
	if n := countEvents(t, st, u.ID, account.EventStaffRoleRevoked); n != 1 {
		t.Errorf("%d revoke events", n)
	}
	// Other tests of the package share the database, so count this user's rows.
	for action, want := range map[string]int{"staff.grant": 1, "staff.revoke": 1} {
		n := st.Ent.AuditEvent.Query().Where(auditevent.Action(action), auditevent.TargetID(strconv.Itoa(u.ID))).CountX(ctx)
		if n != want {
			t.Errorf("%d %s audit rows for the user, want %d", n, action, want)
		}
	}
	if operatorRows("staff.grant") < 1 {
		t.Error("grant not audited as the operator")
	}
	if res, err := audit.Verify(ctx, st.Ent); err != nil || res.FirstBroken != nil {
		t.Errorf("audit chain: %+v, %v", res.FirstBroken, err)
	}
}
