package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdpnetwork "github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/web"
)

// TestLoginHeldPageCompletesByItselfInBrowser checks the waiting page of a
// held login notices the confirmation without JavaScript help or a click:
// its meta refresh reloads it, and the reload signs in.
func TestLoginHeldPageCompletesByItselfInBrowser(t *testing.T) {
	b := setup(t, setupOpts{})
	m := newLoginMember(t, loginMemberOpts{totp: true})
	ctx, base := browseApp(t, b.app)
	tb := newTabDriver(t, ctx, "browser")

	tb.open(base + "/login")
	tb.do("type the password",
		typeInto(field("login-form", "username"), m.Username),
		typeInto(field("login-form", "password"), m.password))
	tb.load("submit the password", chromedp.Click(tid("login-submit")))
	tb.do("type the code", typeInto(field("totp-form", "code"), m.code()))
	tb.load("submit the code", chromedp.Click(tid("totp-submit")))
	if p := tb.path(); p != "/login/held" {
		t.Fatalf("after the code at %s, want /login/held", p)
	}

	// Confirm from "the email" as this browser, behind the page's back.
	cookies, err := chromedp.Run(ctx, chromedp.Action[cdpnetwork.GetCookiesResult](
		func(ctx context.Context, target *chromedp.Target) (cdpnetwork.GetCookiesResult, error) {
			return cdp.Call(ctx, target, cdpnetwork.GetCookies, cdpnetwork.GetCookiesParams{URLs: []string{base + "/"}})
		}))
	if err != nil {
		t.Fatal(err)
	}
	device := ""
	for _, c := range cookies.Cookies {
		if c.Name == web.DeviceCookie {
			device = c.Value
		}
	}
	token, _ := loginConfirmationToken(t, m)
	if err := b.account.Login.ConfirmHeld(context.Background(), token, account.Attempt{IP: "127.0.0.1", DeviceToken: device}); err != nil {
		t.Fatalf("confirm as this browser (device %q): %v", device, err)
	}

	tb.waitPath("/", 15*time.Second)
	wantBrowserSignedIn(t, tb, m)
}
