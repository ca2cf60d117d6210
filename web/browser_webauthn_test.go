package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/mailbox/devmail"
)

// A security key added on the security page through Chrome's virtual
// authenticator (the DevTools WebAuthn domain) signs in as the second
// factor from a browser the account never trusted, without the emailed
// confirmation a TOTP code would need; the same key, a discoverable
// credential, then signs in as a passkey without a username.
//
// Not parallel: see browserStack.
func TestBrowserSecurityKeyAndPasskey(t *testing.T) {
	s := newBrowserStack(t)
	ctx := context.Background()
	name := uniqueName("keys")
	email := name + "@example.org"
	at := account.Attempt{IP: "127.0.0.1", UserAgent: "browser test setup"}

	// The account, with a verified address, made through the domain: the
	// other browser test walks sign-up in the browser.
	u, err := s.account.Accounts.Register(ctx, account.Registration{Username: name, Email: email, Password: browserPassword}, at)
	if err != nil {
		t.Fatal(err)
	}
	link, err := url.Parse(s.mailLink(t, s.waitMail(t, email, "Verify your email address"), account.PathVerifyEmail))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.account.Accounts.VerifyEmail(ctx, link.Query().Get("token"), at); err != nil {
		t.Fatal(err)
	}

	b := s.profile(t, "profile K")
	authenticator := addVirtualAuthenticator(b)

	// No second factor yet, so the password alone signs in; a fresh
	// sign-in counts as a recent authentication, which adding a key needs.
	b.open(s.url("/login"))
	logIn(b, name, browserPassword)
	b.waitPath("/", stepTimeout)
	wantSignedIn(b, name)

	b.open(s.url("/account/security"))
	b.do("name the new key", typeInto(chromedp.CSS("#key-name"), "Virtual key"))
	b.ceremony("add a security key", chromedp.CSS(`[data-testid=key-register] button`),
		`!!document.querySelector("[data-testid=key]")`)
	if got := b.text(tid("key")); !strings.Contains(got, "Virtual key") {
		b.fatal("list the new key", fmt.Errorf("the key row reads %q", got))
	}
	creds := credentials(b, authenticator)
	if len(creds) != 1 || !creds[0].IsResidentCredential {
		b.fatal("check the authenticator", fmt.Errorf("%d credentials (want 1, discoverable): %+v", len(creds), creds))
	}

	// An authenticator app too: the account then has the factor whose
	// sign-in from this untrusted browser would be held.
	secret, err := s.account.TOTP.StartEnrolment(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.account.ConfirmTOTPEnrolment(ctx, u.ID, account.TOTPCode(secret, account.TOTPStep(time.Now())), at); err != nil {
		t.Fatal(err)
	}
	logOut(b)

	// Both "added" mails are in, so the sink's count is settled before
	// the sign-in whose mails (there must be none) are counted.
	if n := len(waitMails(t, s, email, "Two-factor method added", 2)); n != 2 {
		t.Fatalf("%d two-factor-added mails, want 2", n)
	}
	mailsBefore := len(s.mailsTo(email, ""))
	queuedBefore := queuedMails(t, email)

	// Password, then the key as the second factor: signed in at once.
	b.open(s.url("/login"))
	logIn(b, name, browserPassword)
	b.waitPath("/login/2fa", stepTimeout)
	if !b.has(tid("totp-option")) {
		b.fatal("see the choice of factors", fmt.Errorf("no authenticator-app option"))
	}
	b.ceremony("use the security key", tid("key-button"),
		`location.pathname === "/" && !!document.querySelector("[data-testid=signed-in-as]")`)
	wantSignedIn(b, name)
	// The login queued no mail (the outbox is written in the login's
	// transaction, so this is final), and none arrived.
	if n := queuedMails(t, email); n != queuedBefore {
		t.Errorf("the security-key sign-in queued %d mails, want none", n-queuedBefore)
	}
	if got := s.mailsTo(email, ""); len(got) > mailsBefore {
		t.Errorf("the security-key sign-in mailed %q", got[0].Subject)
	}
	logOut(b)

	// A passkey: no username typed, the browser offers the key it holds.
	b.open(s.url("/login"))
	b.ceremony("sign in with a passkey", tid("passkey-button"),
		`location.pathname === "/" && !!document.querySelector("[data-testid=signed-in-as]")`)
	wantSignedIn(b, name)
	if n := queuedMails(t, email); n != queuedBefore {
		t.Errorf("the passkey sign-in queued %d mails, want none", n-queuedBefore)
	}
}

// addVirtualAuthenticator gives the tab a virtual CTAP2 key that holds
// discoverable credentials, verifies the user and needs no touch.
func addVirtualAuthenticator(b *tab) webauthn.AuthenticatorID {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		b.fatal("enable the WebAuthn domain", err)
	}
	res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Ctap2version:                webauthn.Ctap2versionCtap21,
			Transport:                   webauthn.AuthenticatorTransportUsb,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		b.fatal("add a virtual authenticator", err)
	}
	return res.AuthenticatorID
}

// credentials lists what the virtual authenticator holds.
func credentials(b *tab, id webauthn.AuthenticatorID) []*webauthn.Credential {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
	if err != nil {
		b.fatal("list the authenticator's credentials", err)
	}
	return res.Credentials
}

// ceremonyJS reports how a WebAuthn control fares: "done" once the done
// expression holds, the status message once static/webauthn.js shows an
// error, else "".
const ceremonyJS = `(() => {
	if (%s) return "done";
	const e = document.querySelector("[data-webauthn-status].field-error");
	return e ? "error: " + e.textContent : "";
})()`

// ceremony clicks a WebAuthn button and waits until done (a JavaScript
// expression) holds on the page the script leads to. It fails at once with
// the script's message when the ceremony is refused.
func (b *tab) ceremony(what string, button chromedp.CSS, done string) {
	b.t.Helper()
	b.do(what, chromedp.Click(button))
	deadline := time.Now().Add(stepTimeout)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
		// Errors are expected while the page navigates; the deadline
		// catches a page that never gets there.
		state, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(ceremonyJS, done)))
		cancel()
		switch {
		case err == nil && state == "done":
			return
		case err == nil && strings.HasPrefix(state, "error: "):
			b.fatal(what, fmt.Errorf("the page says %q", strings.TrimPrefix(state, "error: ")))
		case time.Now().After(deadline):
			b.fatal(what, fmt.Errorf("not done within %s (last error: %v)", stepTimeout, err))
		}
		time.Sleep(100 * time.Millisecond) // poll interval inside the deadline loop
	}
}

// waitMails waits until at least n mails to the address with subject in
// their subject have arrived, and returns them.
func waitMails(t *testing.T, s *browserStack, to, subject string, n int) []devmail.Mail {
	t.Helper()
	deadline := time.Now().Add(mailDeadline)
	for {
		if got := s.mailsTo(to, subject); len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d mails to %s with %q within %s", n, to, subject, mailDeadline)
		}
		time.Sleep(50 * time.Millisecond) // poll interval inside the deadline loop
	}
}

// queuedMails counts the outbound mails ever queued to the address.
func queuedMails(t *testing.T, to string) int {
	t.Helper()
	n, err := testdb.Store(t).Ent.OutboundMail.Query().Where(outboundmail.ToAddress(to)).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}
