package account_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent/pendinglogin"
)

func TestHeldFactsDescribeTheSignInAndChangeNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newLoginBundle(t)
	browserA, browserB := browsers()
	m := b.member(t, true, 0)
	heldAt := b.clock.now()
	p, err := b.login.WithPassword(ctx, m.Username, m.password, browserA)
	if err != nil {
		t.Fatal(err)
	}
	pending := p.PendingToken
	if _, err := b.login.WithTOTP(ctx, pending, b.code(m), browserA); err != nil {
		t.Fatal(err)
	}
	link, _ := b.confirmationLink(t, m)
	b.clock.add(time.Minute)

	// Asked twice, from another browser too: the facts are the sign-in's,
	// and asking confirms nothing.
	for _, who := range []account.Attempt{browserB, browserA} {
		f, err := b.login.HeldFacts(ctx, link)
		if err != nil {
			t.Fatalf("facts (%s): %v", who.IP, err)
		}
		if !f.At.Equal(heldAt) || f.IP != browserA.IP || f.Device != "Firefox 128 on Linux" {
			t.Errorf("facts %+v, want held at %v from %s in Firefox 128 on Linux", f, heldAt, browserA.IP)
		}
	}
	held, err := b.st.Ent.PendingLogin.Query().Where(pendinglogin.UserID(m.ID)).Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if held.ConfirmedAt != nil || held.ConsumedAt != nil {
		t.Fatalf("reading the facts changed the held login: %+v", held)
	}
	if n := b.events(t, m, account.EventLoginFailed); n != 0 {
		t.Errorf("%d failed-login events from reading the facts", n)
	}

	for _, bad := range []string{"", "forged-token", string(make([]byte, 200))} {
		if _, err := b.login.HeldFacts(ctx, bad); !errors.Is(err, account.ErrTokenInvalid) {
			t.Errorf("facts of %q: %v, want ErrTokenInvalid", bad, err)
		}
	}

	// Once confirmed, the link is used; the facts are not shown again.
	if err := b.login.ConfirmHeld(ctx, link, browserA); err != nil {
		t.Fatal(err)
	}
	if _, err := b.login.HeldFacts(ctx, link); !errors.Is(err, account.ErrTokenUsed) {
		t.Fatalf("facts of a used link: %v, want ErrTokenUsed", err)
	}

	// An unconfirmed link past its hour is expired.
	p, err = b.login.WithPassword(ctx, m.Username, m.password, browserB)
	if err != nil {
		t.Fatal(err)
	}
	b.clock.add(30 * time.Second) // a TOTP step on, as the last code was spent
	if _, err := b.login.WithTOTP(ctx, p.PendingToken, b.code(m), browserB); err != nil {
		t.Fatal(err)
	}
	second, _ := b.confirmationLink(t, m)
	if f, err := b.login.HeldFacts(ctx, second); err != nil || f.IP != browserB.IP || f.Device != "Chrome 130 on Windows" {
		t.Fatalf("facts of the second sign-in: %+v, %v", f, err)
	}
	b.clock.add(account.LoginConfirmationTTL)
	if _, err := b.login.HeldFacts(ctx, second); !errors.Is(err, account.ErrTokenExpired) {
		t.Fatalf("facts of an expired link: %v, want ErrTokenExpired", err)
	}
}
