package web_test

import (
	"encoding/base32"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/recoverydesk/recoverydesk/account"
)

// browserPassword passes the strength check and has nothing of the
// usernames the browser tests make.
const browserPassword = "Quiet-Lantern-Harbor-58"

// uniqueName is a username no other test (or earlier run) uses.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s%d_%d", prefix, time.Now().UnixNano()%1e12, userSeq.Add(1))
}

// The walk: sign up, verify the address from the mail, set up an
// authenticator app from the secret shown, log out; sign in from a fresh
// browser, which is held until the emailed link is opened in that same
// browser — opened in a third browser, the link confirms nothing.
//
// Not parallel: see browserStack.
func TestBrowserRegisterEnrolTOTPAndConfirmUnrecognizedLogin(t *testing.T) {
	s := newBrowserStack(t)
	name := uniqueName("walk")
	email := name + "@example.org"

	// Profile A: sign up and verify the address.
	a := s.profile(t, "profile A")
	a.open(s.url("/register"))
	a.do("fill in the sign-up form",
		typeInto(field("register-form", "username"), name),
		typeInto(field("register-form", "email"), email),
		typeInto(field("register-form", "password"), browserPassword),
		typeInto(field("register-form", "password_confirm"), browserPassword),
	)
	if status := a.load("create the account", chromedp.Click(tid("register-submit"))); status != 200 {
		a.fatal("create the account", fmt.Errorf("status %d", status))
	}
	if got := a.text(tid("flashes")); !strings.Contains(got, email) {
		a.fatal("read the sign-up confirmation", fmt.Errorf("flash %q does not name %s", got, email))
	}

	verify := s.waitMail(t, email, "Verify your email address for "+testSite)
	a.open(s.mailLink(t, verify, account.PathVerifyEmail))
	a.load("verify the address", chromedp.Click(tid("verify-email-submit")))
	if got := a.path(); got != "/login" {
		a.fatal("verify the address", fmt.Errorf("landed on %s, want /login", got))
	}
	if got := a.text(tid("flashes")); !strings.Contains(got, "verified") {
		a.fatal("verify the address", fmt.Errorf("flash %q does not say the address is verified", got))
	}

	// Still profile A: log in (no second factor yet, so no 2FA step).
	logIn(a, name, browserPassword)
	a.waitPath("/", stepTimeout)
	wantSignedIn(a, name)

	// Set up the authenticator app with the secret the page shows.
	a.open(s.url("/account/2fa/totp"))
	secret := totpSecretFromPage(a)
	enrolStep := account.TOTPStep(time.Now())
	a.do("type the first code", typeInto(field("totp-enrol-form", "code"), account.TOTPCode(secret, enrolStep)))
	if status := a.load("turn the app on", chromedp.Click(tid("totp-enrol-submit"))); status != 200 {
		a.fatal("turn the app on", fmt.Errorf("status %d", status))
	}
	codes, err := chromedp.Run(a.ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("[data-testid=recovery-codes] code"), c => c.textContent.trim())`))
	if err != nil {
		a.fatal("read the recovery codes", err)
	}
	if len(codes) != account.RecoveryCodeCount {
		a.fatal("read the recovery codes", fmt.Errorf("%d codes shown, want %d: %q", len(codes), account.RecoveryCodeCount, codes))
	}
	s.waitMail(t, email, "Two-factor method added to your "+testSite+" account")
	logOut(a)

	// Profile B, a browser this account never used: password, then the
	// code of a newer time step than the one spent on enrolment.
	b := s.profile(t, "profile B")
	b.open(s.url("/login"))
	logIn(b, name, browserPassword)
	b.waitPath("/login/2fa", stepTimeout)
	code := nextTOTPCode(t, secret, enrolStep)
	b.do("type the code", typeInto(field("totp-form", "code"), code))
	b.load("send the code", chromedp.Click(tid("totp-submit")))
	b.waitPath("/login/held", stepTimeout)
	if !b.has(tid("login-held")) || b.has(tid("signed-in-as")) {
		b.fatal("reach the waiting page", fmt.Errorf("not held, or already signed in"))
	}

	held := s.waitMail(t, email, "Unrecognized login")
	if want := "Unrecognized login to your " + testSite + " account"; held.Subject != want {
		t.Errorf("subject %q, want %q", held.Subject, want)
	}
	// The mail says where the sign-in came from: profile B's address and
	// browser.
	if !strings.Contains(held.Text, b.ip) || !strings.Contains(held.Text, "Chrome") {
		t.Errorf("the mail does not name %s and Chrome:\n%s", b.ip, held.Text)
	}
	link := s.mailLink(t, held, account.PathConfirmLogin)

	// Profile C, another browser: the link explains and confirms nothing.
	c := s.profile(t, "profile C")
	c.open(link)
	status := c.load("confirm from another browser", chromedp.Click(tid("confirm-submit")))
	if status != 403 || !c.has(tid("confirm-wrong_browser")) {
		c.fatal("confirm from another browser", fmt.Errorf("status %d, want 403 and the wrong-browser page", status))
	}
	if got := c.text(tid("confirm-wrong_browser")); !strings.Contains(got, "only works in the browser where you signed in") ||
		!strings.Contains(got, "Nothing was confirmed") {
		c.fatal("read the wrong-browser page", fmt.Errorf("it says %q", got))
	}
	if c.has(tid("signed-in-as")) {
		c.fatal("confirm from another browser", fmt.Errorf("profile C is signed in"))
	}
	// Profile B is still held: a fresh load of its waiting page waits on.
	b2 := s.secondTab(t, b, "profile B, second tab")
	b2.open(s.url("/login/held"))
	if !b2.has(tid("login-held")) || b2.has(tid("signed-in-as")) {
		b2.fatal("check profile B still waits", fmt.Errorf("the sign-in is no longer held"))
	}

	// The link in profile B confirms and signs in. Its second tab has
	// another client address: the link is bound to the browser (its device
	// cookie), not to the IP.
	b2.open(link)
	b2.load("confirm in the browser that signed in", chromedp.Click(tid("confirm-submit")))
	b2.waitPath("/", stepTimeout)
	wantSignedIn(b2, name)

	// The first tab of B, on the waiting page, continues by itself.
	b.waitPath("/", 30*time.Second)
	wantSignedIn(b, name)

	// Profile B is now a trusted browser of the account.
	b.open(s.url("/account/security"))
	if !b.has(tid("device")) {
		b.fatal("list the trusted browsers", fmt.Errorf("profile B is not listed"))
	}
}

// logIn fills in and sends the sign-in form on the page the tab shows.
func logIn(b *tab, username, password string) {
	b.t.Helper()
	b.do("fill in the sign-in form",
		typeInto(field("login-form", "username"), username),
		typeInto(field("login-form", "password"), password),
	)
	b.load("log in", chromedp.Click(tid("login-submit")))
}

// logOut uses the header's button and checks the header offers to log in.
func logOut(b *tab) {
	b.t.Helper()
	b.load("log out", chromedp.Click(chromedp.CSS(`[data-testid=logout-form] button`)))
	if !b.has(tid("login-link")) || b.has(tid("signed-in-as")) {
		b.fatal("log out", fmt.Errorf("the header still shows a signed-in user"))
	}
}

// wantSignedIn checks the header names the user.
func wantSignedIn(b *tab, username string) {
	b.t.Helper()
	if got := b.text(tid("signed-in-as")); !strings.Contains(got, username) {
		b.fatal("check who is signed in", fmt.Errorf("header says %q, want %s", got, username))
	}
}

// totpSecretFromPage reads the setup key the enrolment page shows for
// typing by hand, as a person would type it into an app.
func totpSecretFromPage(b *tab) []byte {
	b.t.Helper()
	shown := b.text(tid("totp-secret"))
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(shown, " ", ""))
	if err != nil || len(secret) == 0 {
		b.fatal("decode the setup key", fmt.Errorf("%q: %v", shown, err))
	}
	return secret
}

// nextTOTPCode is the code of the current time step once it is newer than
// spent (a step's code works once). It waits for the step to change when
// it has not yet.
func nextTOTPCode(t *testing.T, secret []byte, spent int64) string {
	t.Helper()
	deadline := time.Now().Add(account.TOTPPeriod + 5*time.Second)
	for {
		if step := account.TOTPStep(time.Now()); step > spent {
			return account.TOTPCode(secret, step)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the TOTP step did not move past %d", spent)
		}
		time.Sleep(100 * time.Millisecond) // poll interval inside the deadline loop
	}
}
