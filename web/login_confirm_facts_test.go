package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent/pendinglogin"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// heldSignIn holds a sign-in of a new member with TOTP from the given
// browser (through the account layer, so the test picks its IP and
// User-Agent) and returns the member and the emailed link's token.
func heldSignIn(t *testing.T, b *bundle, at account.Attempt) (loginMember, string) {
	t.Helper()
	ctx := context.Background()
	m := newLoginMember(t, loginMemberOpts{totp: true})
	p, err := b.account.Login.WithPassword(ctx, m.Username, m.password, at)
	if err != nil {
		t.Fatal(err)
	}
	p, err = b.account.Login.WithTOTP(ctx, p.PendingToken, m.code(), at)
	if err != nil || p.Stage != account.StageHeld {
		t.Fatalf("TOTP from an unrecognized browser: %+v, %v; want held", p, err)
	}
	token, _ := loginConfirmationToken(t, m)
	return m, token
}

func TestLoginConfirmPageShowsTheHeldSignIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, setupOpts{noDevMail: true})
	db := testdb.Store(t).Ent
	at := account.Attempt{IP: "198.51.100.23", UserAgent: secFirefox, DeviceToken: "device-of-the-sign-in-0123456789"}
	before := time.Now().Add(-time.Second)
	m, token := heldSignIn(t, b, at)

	// Opened anywhere (here another browser): the facts of the sign-in.
	c := newClient(t, b.app)
	r := c.get("/login/confirm?token=" + token)
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	d.testID("confirm-form")
	if got := text(d.testID("confirm-facts-ip")); got != at.IP {
		t.Errorf("IP %q, want %q", got, at.IP)
	}
	if got := text(d.testID("confirm-facts-device")); got != "Firefox 128 on Linux" {
		t.Errorf("browser %q, want Firefox 128 on Linux", got)
	}
	times := all(d.testID("confirm-facts-time"), isTag("time"))
	if len(times) != 1 {
		t.Fatalf("%d <time> elements in the facts, want 1", len(times))
	}
	held, err := time.Parse(time.RFC3339, mustAttr(t, times[0], "datetime"))
	if err != nil || held.Before(before.Truncate(time.Second)) || held.After(time.Now()) {
		t.Errorf("held at %v (%v), want between %v and now", held, err, before)
	}
	if !strings.Contains(text(times[0]), "UTC") {
		t.Errorf("time reads %q", text(times[0]))
	}

	// Showing the page changed nothing.
	row, err := db.PendingLogin.Query().Where(pendinglogin.UserID(m.ID)).Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if row.ConfirmedAt != nil || row.ConsumedAt != nil {
		t.Fatal("opening the link confirmed the sign-in")
	}

	// Past its hour, the page says so at once, without a button.
	if err := db.PendingLogin.UpdateOneID(row.ID).SetExpiresAt(time.Now().Add(-time.Minute)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	r = c.get("/login/confirm?token=" + token)
	wantStatus(t, r, http.StatusGone)
	d = parse(t, r.body)
	d.testID("confirm-expired")
	if d.hasTestID("confirm-form") || d.hasTestID("confirm-facts") {
		t.Error("the page of an expired link shows the button or the facts")
	}
}
