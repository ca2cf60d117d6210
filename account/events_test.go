package account_test

import (
	"context"
	"testing"

	"github.com/recoverydesk/recoverydesk/account"
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
	if len(kinds) != 22 {
		t.Errorf("%d kinds, want the 22 listed", len(kinds))
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
