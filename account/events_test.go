package account_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/auditevent"
	"github.com/recoverydesk/recoverydesk/ent/session"
	"github.com/recoverydesk/recoverydesk/internal/audit"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

func TestEventRecordAndList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.Store(t)
	u, other := makeUser(t, st.Ent), makeUser(t, st.Ent)
	ec := account.EventContext{IP: "192.0.2.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", Device: "Firefox 128 on Linux"}

	record := func(userID int, kind account.EventKind, details map[string]any) {
		t.Helper()
		if err := account.RecordEvent(ctx, st.Ent, userID, kind, ec, details); err != nil {
			t.Fatal(err)
		}
	}
	record(u.ID, account.EventLoginFailed, map[string]any{account.DetailMethod: "password", account.DetailReason: "bad_password"})
	record(other.ID, account.EventLogout, nil)
	record(u.ID, account.EventLoginSucceeded, map[string]any{account.DetailMethod: "totp"})
	record(u.ID, account.EventTOTPAdded, nil)

	events, err := account.ListEvents(ctx, st.Ent, u.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []account.EventKind{account.EventTOTPAdded, account.EventLoginSucceeded, account.EventLoginFailed}
	if len(events) != len(want) {
		t.Fatalf("%d events, want %d (only the user's own)", len(events), len(want))
	}
	for i, e := range events {
		if e.Kind != want[i] {
			t.Errorf("event %d is %s, want %s (newest first)", i, e.Kind, want[i])
		}
		if e.IP != ec.IP || e.UserAgent != ec.UserAgent || e.Device != ec.Device || e.Description != e.Kind.Describe() || e.Time.IsZero() {
			t.Errorf("event %d = %+v: context or description lost", i, e)
		}
		if i > 0 && e.Time.After(events[i-1].Time) {
			t.Errorf("event %d is newer than event %d", i, i-1)
		}
	}
	if failed := events[2]; failed.Method != "password" || failed.Reason != "bad_password" {
		t.Errorf("failed login method %q reason %q, want password, bad_password", failed.Method, failed.Reason)
	}
	if events[1].Method != "totp" || events[1].Reason != "" {
		t.Errorf("login method %q reason %q, want totp and none", events[1].Method, events[1].Reason)
	}

	latest, err := account.ListEvents(ctx, st.Ent, u.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != 2 || latest[0].ID != events[0].ID || latest[1].ID != events[1].ID {
		t.Errorf("limit 2 gave %+v, want the two newest", latest)
	}
}

func TestEventRecordRefusesUnknownUser(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	// The schema requires a user: attempts on unknown usernames are not
	// recordable, only rate-limited.
	if err := account.RecordEvent(context.Background(), st.Ent, -1, account.EventLoginFailed, account.EventContext{}, nil); err == nil {
		t.Error("an event for a user that does not exist was recorded")
	}
}

func TestEventKindsDescribe(t *testing.T) {
	t.Parallel()
	kinds := account.EventKinds()
	if len(kinds) != 26 {
		t.Errorf("%d kinds, want the 26 listed", len(kinds))
	}
	seen := map[string]account.EventKind{}
	for _, k := range kinds {
		d := k.Describe()
		if d == "" || d == "Security event: "+string(k) {
			t.Errorf("%s has no description of its own", k)
		}
		if prev, dup := seen[d]; dup {
			t.Errorf("%s and %s share the description %q", k, prev, d)
		}
		seen[d] = k
	}
	if d := account.EventKind("something_new").Describe(); d != "Security event: something new" {
		t.Errorf("unknown kind described as %q", d)
	}
}

func TestSummarizeUserAgent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ ua, want string }{
		{"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox 128 on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "Chrome 126 on Windows"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87", "Edge 126 on Windows"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "Safari 17 on macOS"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari 17 on iOS"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.122 Mobile Safari/537.36", "Chrome 126 on Android"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", "Headless Chrome 131 on Linux"},
		{"curl/8.5.0", "curl 8"},
		{"", "an unknown browser"},
		{"SomeBot (Linux)", "a browser on Linux"},
	} {
		if got := account.SummarizeUserAgent(tc.ua); got != tc.want {
			t.Errorf("SummarizeUserAgent(%q) = %q, want %q", tc.ua, got, tc.want)
		}
	}
}

// auditActions are the audit actions whose target is userID, oldest first.
func auditActions(t *testing.T, st *store.Store, userID int) []string {
	t.Helper()
	rows, err := st.Ent.AuditEvent.Query().
		Where(auditevent.TargetType("user"), auditevent.TargetID(strconv.Itoa(userID))).
		Order(ent.Asc(auditevent.FieldID)).All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		if r.ActorID == nil || *r.ActorID != userID || !strings.HasPrefix(r.ActorLabel, "user ") {
			t.Errorf("audit row %d (%s): actor %v %q, want the user themself", r.ID, r.Action, r.ActorID, r.ActorLabel)
		}
		out[i] = r.Action
	}
	return out
}

// TestSecurityChangesAreAudited makes each change through its service and
// checks it appended exactly one audit row naming it, that refused changes
// append none, and that the chain still verifies.
func TestSecurityChangesAreAudited(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, st := newServices(t)
	at := account.Attempt{IP: "192.0.2.9", UserAgent: "test"}
	u := newEmailUser(t, s.Accounts, at)
	_, sess, _ := signedIn(t, s, st)

	steps := []struct {
		name   string
		change func() error
		want   []string // actions appended; none when the change is refused
	}{
		{"add email", func() error { return s.Accounts.AddEmail(ctx, u.ID, "second-"+u.first, at) }, []string{"account.email_added"}},
		{"add the same email again (refused)", func() error { return s.Accounts.AddEmail(ctx, u.ID, "second-"+u.first, at) }, nil},
		{"verify email", func() error {
			_, err := s.Accounts.VerifyEmail(ctx, linkToken(t, u.ID, account.MailEmailVerification), at)
			return err
		}, []string{"account.email_verified"}},
		{"make primary", func() error {
			return s.Accounts.MakePrimary(ctx, u.ID, emailOf(t, u.ID, "second-"+u.first).ID, at)
		}, []string{"account.primary_email_changed"}},
		{"remove the primary email (refused)", func() error {
			return s.Accounts.RemoveEmail(ctx, u.ID, emailOf(t, u.ID, "second-"+u.first).ID, at)
		}, nil},
		{"remove email", func() error { return s.Accounts.RemoveEmail(ctx, u.ID, emailOf(t, u.ID, u.first).ID, at) }, []string{"account.email_removed"}},
		{"regenerate recovery codes", func() error {
			_, err := s.Security.RegenerateRecoveryCodes(ctx, u.ID, at)
			return err
		}, []string{"account.recovery_codes_generated"}},
		{"confirm TOTP with a malformed code (refused)", func() error {
			if _, err := s.TOTP.StartEnrolment(ctx, u.ID); err != nil {
				return nil // fails the step: the refusal must come from the confirmation
			}
			return s.ConfirmTOTPEnrolment(ctx, u.ID, "000000x", at)
		}, nil},
		{"add TOTP", func() error {
			secret, err := s.TOTP.StartEnrolment(ctx, u.ID)
			if err != nil {
				return err
			}
			return s.ConfirmTOTPEnrolment(ctx, u.ID, account.TOTPCode(secret, account.TOTPStep(time.Now())), at)
		}, []string{"account.totp_added"}},
		{"revoke another user's session (refused)", func() error { return s.Security.RevokeSession(ctx, u.ID, sess.ID, at) }, nil},
		{"revoke device", func() error {
			d, err := st.Ent.TrustedDevice.Create().SetUserID(u.ID).SetDeviceHash([]byte("audited device")).Save(ctx)
			if err != nil {
				return err
			}
			return s.Security.RevokeDevice(ctx, u.ID, d.ID, at)
		}, []string{"account.device_revoked"}},
		{"change password", func() error {
			_, err := s.Accounts.ChangePassword(ctx, u.ID, "quartz lantern meadow seven", []string{"password"}, at)
			return err
		}, []string{"account.password_changed"}},
		{"revoke session", func() error {
			own, err := st.Ent.Session.Query().Where(session.UserID(u.ID), session.RevokedAtIsNil()).Only(ctx)
			if err != nil {
				return err
			}
			return s.Security.RevokeSession(ctx, u.ID, own.ID, at)
		}, []string{"account.session_revoked"}},
		{"revoke it again (refused)", func() error {
			own, err := st.Ent.Session.Query().Where(session.UserID(u.ID)).Only(ctx)
			if err != nil {
				return err
			}
			return s.Security.RevokeSession(ctx, u.ID, own.ID, at)
		}, nil},
	}
	before := auditActions(t, st, u.ID)
	for _, step := range steps {
		err := step.change()
		if (err == nil) != (step.want != nil) {
			t.Fatalf("%s: err = %v", step.name, err)
		}
		after := auditActions(t, st, u.ID)
		if got := after[len(before):]; !slices.Equal(got, step.want) {
			t.Errorf("%s appended %q, want %q", step.name, got, step.want)
		}
		before = after
	}
	res, err := audit.Verify(ctx, st.Ent)
	if err != nil {
		t.Fatal(err)
	}
	if res.FirstBroken != nil {
		t.Errorf("audit chain broken at %+v", res.FirstBroken)
	}
}
