package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdpnetwork "github.com/chromedp/cdproto/network"
	cdpwebauthn "github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/webauthncredential"
	"github.com/recoverydesk/recoverydesk/internal/config"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/web"
)

// keyPage is a stand-in for the account page that adds a security key:
// test routes that drive account.WebAuthn's registration through
// static/webauthn.js with data-webauthn="register", so the script's
// register contract ({"name", "credential"}) is checked against the real
// domain code.
type keyPage struct {
	svc    *account.Services
	userID int
	mu     sync.Mutex
	state  []byte
}

func (k *keyPage) routes(r fiber.Router) {
	r.Get("/test/keys", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.SendString(`<!DOCTYPE html><html lang="en"><head><title>keys</title></head><body>
<form data-webauthn="register" data-begin="/test/keys/begin" data-finish="/test/keys/finish"
      data-csrf="` + html.EscapeString(c.Query("csrf")) + `" data-name-input="key_name" hidden>
  <label for="key-name">Name</label><input id="key-name" name="key_name">
  <button type="submit" id="add-key">Add a key</button>
  <p data-webauthn-status id="key-status"></p>
</form>
<script src="/static/webauthn.js" defer></script></body></html>`)
	})
	r.Get("/test/keys/done", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.SendString(`<!DOCTYPE html><html lang="en"><head><title>done</title></head><body><p id="done">registered</p></body></html>`)
	})
	r.Post("/test/keys/begin", func(c *fiber.Ctx) error {
		options, state, err := k.svc.WebAuthn.BeginRegistration(c.UserContext(), k.userID)
		if err != nil {
			return err
		}
		k.mu.Lock()
		k.state = state
		k.mu.Unlock()
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(options)
	})
	r.Post("/test/keys/finish", func(c *fiber.Ctx) error {
		var body struct {
			Name       string          `json:"name"`
			Credential json.RawMessage `json:"credential"`
		}
		if err := json.Unmarshal(c.Body(), &body); err != nil {
			return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": "body: " + err.Error()})
		}
		k.mu.Lock()
		state := k.state
		k.mu.Unlock()
		if _, err := k.svc.WebAuthn.FinishRegistration(c.UserContext(), nil, k.userID, body.Name, state, body.Credential); err != nil {
			return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": err.Error()})
		}
		return c.JSON(fiber.Map{"redirect": "/test/keys/done"})
	})
}

// serveOnLocalhost serves app built for a BaseURL of
// http://localhost:<port> (WebAuthn refuses IP addresses) and returns
// that base URL.
func serveOnLocalhost(t *testing.T, build func(base *url.URL) *fiber.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	app := build(base)
	serveForTest(t, app, ln)
	return base.String()
}

// TestWebAuthnScriptRegisterSecondFactorAndPasskey drives
// static/webauthn.js in Chromium with a virtual authenticator: it adds a
// key (register), signs in with password + the key (login: no email, no
// hold), then signs in with the passkey alone (passkey).
func TestWebAuthnScriptRegisterSecondFactorAndPasskey(t *testing.T) {
	requireChromium(t)
	m := newLoginMember(t, loginMemberOpts{})
	logs := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("app log:\n%s", logs.String())
		}
	})
	var svc *account.Services
	base := serveOnLocalhost(t, func(base *url.URL) *fiber.App {
		cfg := config.Config{
			SiteName:       testSite,
			BaseURL:        base,
			SecretKey:      bytes.Repeat([]byte("w"), 32),
			SupportAddress: testSupport,
			Mode:           config.ModeServe,
		}
		svc = newAccountServices(t, cfg)
		keys := &keyPage{svc: svc, userID: m.ID}
		app, err := web.New(web.Deps{
			Config: cfg, Logger: stackLogger(logs), Sessions: svc.Sessions, Account: svc,
			Ready: func(context.Context) error { return nil }, Extra: keys.routes,
		})
		if err != nil {
			t.Fatal(err)
		}
		return app
	})
	ctx := newBrowser(t)
	b := newTabDriver(t, ctx, "browser")
	b.do("add a virtual authenticator", chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		noUI := false
		if _, err := cdp.Call(ctx, target, cdpwebauthn.Enable, cdpwebauthn.EnableParams{EnableUI: &noUI}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, target, cdpwebauthn.AddVirtualAuthenticator, cdpwebauthn.AddVirtualAuthenticatorParams{
			Options: &cdpwebauthn.VirtualAuthenticatorOptions{
				Protocol:                    cdpwebauthn.AuthenticatorProtocolCtap2,
				Ctap2version:                cdpwebauthn.Ctap2versionCtap21,
				Transport:                   cdpwebauthn.AuthenticatorTransportUsb,
				HasResidentKey:              true,
				HasUserVerification:         true,
				IsUserVerified:              true,
				AutomaticPresenceSimulation: true,
			},
		})
		return err
	}))

	// Register: the CSRF token of a signed-out page, then the key page.
	b.open(base + "/login")
	csrf, err := chromedp.Run(ctx, chromedp.Value(field("login-form", web.CSRFField)))
	if err != nil || csrf == "" {
		t.Fatalf("read the CSRF token: %q, %v", csrf, err)
	}
	b.open(base + "/test/keys?csrf=" + url.QueryEscape(csrf))
	b.do("add a key",
		chromedp.WaitVisible(chromedp.CSS("#add-key")), // un-hidden by the script
		typeInto(chromedp.CSS("#key-name"), "Desk key"),
		chromedp.Click(chromedp.CSS("#add-key")))
	waitForScript(b, "/test/keys/done", "#key-status")
	key, err := testdb.Store(t).Ent.WebAuthnCredential.Query().Where(webauthncredential.UserID(m.ID)).Only(context.Background())
	if err != nil {
		t.Fatalf("registered key: %v", err)
	}
	if key.Name != "Desk key" || !key.Discoverable {
		t.Errorf("key %q discoverable=%v, want \"Desk key\", a passkey (credProps.rk)", key.Name, key.Discoverable)
	}

	// Password, then the security key: signed in, never held.
	b.open(base + "/login")
	b.do("sign in with a password",
		typeInto(field("login-form", "username"), m.Username),
		typeInto(field("login-form", "password"), m.password))
	b.load("submit the password", chromedp.Click(tid("login-submit")))
	if p := b.path(); p != "/login/2fa" {
		t.Fatalf("after the password at %s, want /login/2fa", p)
	}
	if b.has(tid("totp-form")) {
		t.Error("a TOTP form for a member without TOTP")
	}
	b.do("use the security key",
		chromedp.WaitVisible(tid("key-button")), // un-hidden by the script
		chromedp.Click(tid("key-button")))
	waitForScript(b, "/", "[data-testid=key-status]")
	wantBrowserSignedIn(t, b, m)
	held, err := testdb.Store(t).Ent.OutboundMail.Query().
		Where(outboundmail.UserID(m.ID), outboundmail.Purpose(account.MailUnrecognizedLogin)).Count(context.Background())
	if err != nil || held != 0 {
		t.Errorf("%d unrecognized-login mails (%v) after a security-key sign-in, want 0", held, err)
	}

	// A fresh start (no cookies), then the passkey without a username.
	b.do("forget cookies", chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		_, err := cdp.Call(ctx, target, cdpnetwork.ClearBrowserCookies, cdp.Empty{})
		return err
	}))
	b.open(base + "/login")
	if b.has(tid("signed-in-as")) {
		t.Fatal("still signed in after clearing cookies")
	}
	b.do("use the passkey",
		chromedp.WaitVisible(tid("passkey-button")),
		chromedp.Click(tid("passkey-button")))
	waitForScript(b, "/", "[data-testid=passkey-status]")
	wantBrowserSignedIn(t, b, m)
}

// waitForScript waits for the script's redirect to path; on failure it
// reports what the status region next to the button says.
func waitForScript(b *tab, path, statusSel string) {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		loc, err := chromedp.Run(b.ctx, chromedp.Location())
		if u, perr := url.Parse(loc); err == nil && perr == nil && u.Path == path {
			return
		}
		time.Sleep(100 * time.Millisecond) // poll interval inside the deadline loop
	}
	status, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](
		fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, statusSel)))
	b.fatal("wait for "+path, fmt.Errorf("the script did not get there; its status says %q", strings.TrimSpace(status)))
}

func wantBrowserSignedIn(t *testing.T, b *tab, m loginMember) {
	t.Helper()
	if who := b.text(tid("signed-in-as")); !strings.Contains(who, m.DisplayName) {
		t.Fatalf("signed in as %q, want %q", who, m.DisplayName)
	}
}
