package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// A signed-in person whose sign-in is older than the re-authentication
// window confirms with their security key (Chrome's virtual
// authenticator) instead of their password, and is back on the security
// page, free to add another key.
//
// Not parallel: see browserStack.
func TestBrowserReauthWithSecurityKey(t *testing.T) {
	s := newBrowserStack(t)
	ctx := context.Background()
	db := testdb.Store(t)
	name := uniqueName("rkey")
	hash, err := account.HashPassword(browserPassword, cheapPasswords)
	if err != nil {
		t.Fatal(err)
	}
	u, err := db.Ent.User.Create().SetUsername(name).SetUsernameNormalized(name).SetDisplayName(name).SetPasswordHash(hash).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	addr := name + "@example.org"
	if err := db.Ent.EmailAddress.Create().SetUserID(u.ID).SetAddress(addr).SetAddressNormalized(addr).SetPrimary(true).SetVerifiedAt(time.Now()).Exec(ctx); err != nil {
		t.Fatal(err)
	}

	b := s.profile(t, "profile R")
	addVirtualAuthenticator(b)
	b.open(s.url("/login"))
	logIn(b, name, browserPassword)
	b.waitPath("/", stepTimeout)
	b.open(s.url("/account/security"))
	b.do("name the new key", typeInto(chromedp.CSS("#key-name"), "Virtual key"))
	b.ceremony("add a security key", chromedp.CSS(`[data-testid=key-register] button`),
		`!!document.querySelector("[data-testid=key]")`)

	// The sign-in is now 20 minutes old: adding another key needs a
	// confirmation first.
	if _, err := db.Pool.Exec(ctx, "UPDATE sessions SET created_at = created_at - interval '20 minutes' WHERE user_id = $1", u.ID); err != nil {
		t.Fatal(err)
	}
	b.open(s.url("/account/security"))
	if !b.has(tid("key-register-reauth")) {
		b.fatal("see that a confirmation is due", fmt.Errorf("the security page offers to add a key at once"))
	}

	b.open(s.url("/account/reauth?next=/account/security"))
	if !b.has(`[data-testid=reauth-key]:not([hidden])`) {
		b.fatal("see the security-key control", fmt.Errorf("it stayed hidden"))
	}
	b.ceremony("confirm with the security key", tid("reauth-key-button"),
		`location.pathname === "/account/security" && !!document.querySelector("[data-testid=key-register]")`)
	if got := b.text(tid("flash")); !strings.Contains(got, "Confirmed with your security key") {
		b.fatal("read the confirmation", fmt.Errorf("the flash says %q", got))
	}
}
