package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/pendinglogin"
	"github.com/recoverydesk/recoverydesk/ent/recoverycode"
	"github.com/recoverydesk/recoverydesk/ent/trusteddevice"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/web"

	"golang.org/x/net/html"
)

// loginMember is a user made for a sign-in test, with the secrets a test
// needs to sign in as them.
type loginMember struct {
	*ent.User
	password string
	secret   []byte   // TOTP secret; nil without TOTP
	codes    []string // unused recovery codes
}

// loginMemberOpts says which second factors a loginMember gets.
type loginMemberOpts struct {
	totp  bool
	codes int
}

// newLoginMember creates an active user with a verified primary address
// (security mail goes there) and the second factors asked for.
func newLoginMember(t *testing.T, o loginMemberOpts) loginMember {
	t.Helper()
	ctx := context.Background()
	db := testdb.Store(t).Ent
	name := fmt.Sprintf("login%d_%d", time.Now().UnixNano(), userSeq.Add(1))
	pw := "correct horse battery " + name
	hash, err := account.HashPassword(pw, cheapPasswords)
	if err != nil {
		t.Fatal(err)
	}
	u, err := db.User.Create().SetUsername(name).SetUsernameNormalized(name).SetDisplayName("Member " + name).SetPasswordHash(hash).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	addr := name + "@example.org"
	if err := db.EmailAddress.Create().SetUserID(u.ID).SetAddress(addr).SetAddressNormalized(addr).SetPrimary(true).SetVerifiedAt(time.Now()).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	m := loginMember{User: u, password: pw}
	if o.totp {
		if m.secret, err = account.NewTOTPSecret(); err != nil {
			t.Fatal(err)
		}
		if err := db.TOTPCredential.Create().SetUserID(u.ID).SetSecret(m.secret).SetConfirmedAt(time.Now()).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if o.codes > 0 {
		if m.codes, err = account.NewRecoveryCodes(o.codes); err != nil {
			t.Fatal(err)
		}
		for _, c := range m.codes {
			if err := db.RecoveryCode.Create().SetUserID(u.ID).SetCodeHash(account.HashRecoveryCode(c)).SetBatch(1).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	return m
}

// code is the member's current TOTP code.
func (m loginMember) code() string {
	return account.TOTPCode(m.secret, account.TOTPStep(time.Now()))
}

// loginCSRF is the client's CSRF token: from the sign-in form, or from
// the home page's sign-out form when signed in.
func loginCSRF(t *testing.T, c *client) string {
	t.Helper()
	if c.cookie(web.SessionCookie) != "" {
		return tokenFromPage(t, c, "/")
	}
	return tokenFromPage(t, c, "/login")
}

// loginPassword posts the sign-in form with a fresh token.
func loginPassword(t *testing.T, c *client, username, password, next string) response {
	t.Helper()
	form := url.Values{web.CSRFField: {loginCSRF(t, c)}, "username": {username}, "password": {password}}
	if next != "" {
		form.Set("next", next)
	}
	return c.postForm("/login", form)
}

// loginWantRedirect checks a 303 to want.
func loginWantRedirect(t *testing.T, r response, want string) {
	t.Helper()
	wantStatus(t, r, http.StatusSeeOther)
	if got := r.Header.Get("Location"); got != want {
		t.Fatalf("%s %s redirects to %q, want %q", r.Request.Method, r.Request.URL, got, want)
	}
}

// loginWantSignedIn checks the client's session shows the member signed in.
func loginWantSignedIn(t *testing.T, c *client, m loginMember) {
	t.Helper()
	r := c.get("/")
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	if !d.hasTestID("signed-in-as") {
		t.Fatal("home page does not show anyone signed in")
	}
	if got := text(d.testID("signed-in-as")); !strings.Contains(got, m.DisplayName) {
		t.Fatalf("signed in as %q, want %q", got, m.DisplayName)
	}
}

func loginWantSignedOut(t *testing.T, c *client) {
	t.Helper()
	r := c.get("/")
	wantStatus(t, r, http.StatusOK)
	if parse(t, r.body).hasTestID("signed-in-as") {
		t.Fatal("home page shows someone signed in")
	}
}

// loginToSecondFactor passes the password step of a member with 2FA.
func loginToSecondFactor(t *testing.T, c *client, m loginMember) {
	t.Helper()
	loginWantRedirect(t, loginPassword(t, c, m.Username, m.password, ""), "/login/2fa")
	if c.cookie(web.LoginCookie) == "" {
		t.Fatalf("no %s cookie after the password step", web.LoginCookie)
	}
}

// loginPost posts a form of the sign-in steps with the client's token.
func loginPost(t *testing.T, c *client, path string, form url.Values) response {
	t.Helper()
	form.Set(web.CSRFField, loginCSRF(t, c))
	return c.postForm(path, form)
}

// loginConfirmationToken reads the token of the member's newest
// unrecognized-login mail.
func loginConfirmationToken(t *testing.T, m loginMember) (string, *ent.OutboundMail) {
	t.Helper()
	row, err := testdb.Store(t).Ent.OutboundMail.Query().
		Where(outboundmail.UserID(m.ID), outboundmail.Purpose(account.MailUnrecognizedLogin)).
		Order(ent.Desc(outboundmail.FieldID)).First(context.Background())
	if err != nil {
		t.Fatalf("no unrecognized-login mail: %v", err)
	}
	match := regexp.MustCompile(regexp.QuoteMeta(account.PathConfirmLogin) + `\?token=([A-Za-z0-9_-]+)`).FindStringSubmatch(row.BodyText)
	if match == nil {
		t.Fatalf("no confirmation link in:\n%s", row.BodyText)
	}
	return match[1], row
}

func loginMailCount(t *testing.T, m loginMember, purpose string) int {
	t.Helper()
	n, err := testdb.Store(t).Ent.OutboundMail.Query().
		Where(outboundmail.UserID(m.ID), outboundmail.Purpose(purpose)).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// loginHeldWithTOTP takes a member with TOTP from a fresh client to the
// waiting page of a held login; it returns the code it used.
func loginHeldWithTOTP(t *testing.T, c *client, m loginMember) string {
	t.Helper()
	loginToSecondFactor(t, c, m)
	code := m.code()
	loginWantRedirect(t, loginPost(t, c, "/login/2fa/totp", url.Values{"code": {code}}), "/login/held")
	return code
}

// loginConfirmHere opens the confirmation link in c and confirms it.
func loginConfirmHere(t *testing.T, c *client, token string) response {
	t.Helper()
	r := c.get("/login/confirm?token=" + token)
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	if got := formValue(t, d.testID("confirm-form"), "token"); got != token {
		t.Fatalf("confirm form carries token %q, want %q", got, token)
	}
	return c.postForm("/login/confirm", url.Values{web.CSRFField: {formValue(t, d.testID("confirm-form"), web.CSRFField)}, "token": {token}})
}

func TestLoginPageFormAndLinks(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	c := newClient(t, b.app)
	r := c.get("/login")
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	wantLayout(t, d)
	form := d.testID("login-form")
	if v := mustAttr(t, form, "action"); v != "/login" {
		t.Errorf("form posts to %q", v)
	}
	for name, want := range map[string]string{"username": "username", "password": "current-password"} {
		inputs := all(form, hasAttr("name", name))
		if len(inputs) != 1 {
			t.Fatalf("%d %s inputs", len(inputs), name)
		}
		if got, _ := attr(inputs[0], "autocomplete"); got != want {
			t.Errorf("%s autocomplete=%q, want %q", name, got, want)
		}
		id := mustAttr(t, inputs[0], "id")
		if len(d.all(func(n *html.Node) bool { v, _ := attr(n, "for"); return n.Data == "label" && v == id })) != 1 {
			t.Errorf("%s has no label", name)
		}
	}
	if v := mustAttr(t, d.testID("forgot-password"), "href"); v != "/password-reset" {
		t.Errorf("forgot-password link %q", v)
	}
	if v := mustAttr(t, d.testID("create-account"), "href"); v != "/register" {
		t.Errorf("create-account link %q", v)
	}
	passkey := d.testID("passkey-login")
	if _, hidden := attr(passkey, "hidden"); !hidden {
		t.Error("passkey button is shown without JavaScript")
	}
	if v := mustAttr(t, passkey, "data-webauthn"); v != "passkey" {
		t.Errorf("data-webauthn=%q", v)
	}
	if v := mustAttr(t, passkey, "data-begin"); v != "/login/passkey/begin" {
		t.Errorf("data-begin=%q", v)
	}
	if v := mustAttr(t, passkey, "data-csrf"); v == "" {
		t.Error("no CSRF token for the passkey ceremony")
	}
	scripts := d.all(func(n *html.Node) bool {
		src, _ := attr(n, "src")
		return n.Data == "script" && strings.HasPrefix(src, "/static/webauthn.js?v=")
	})
	if len(scripts) != 1 {
		t.Fatalf("%d versioned webauthn.js script tags, want 1", len(scripts))
	}
	js := c.get(mustAttr(t, scripts[0], "src"))
	wantStatus(t, js, http.StatusOK)
	if !strings.Contains(js.Header.Get("Content-Type"), "javascript") {
		t.Errorf("webauthn.js served as %q", js.Header.Get("Content-Type"))
	}
}

func TestLoginSetsDeviceCookie(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	c := newClient(t, b.app)
	r := c.get("/login")
	var device *http.Cookie
	for _, ck := range r.Cookies() {
		if ck.Name == web.DeviceCookie {
			device = ck
		}
	}
	if device == nil {
		t.Fatal("no device cookie on the first visit")
	}
	if !device.HttpOnly || device.SameSite != http.SameSiteLaxMode || device.MaxAge < 399*24*3600 {
		t.Errorf("device cookie HttpOnly=%v SameSite=%v MaxAge=%d, want HttpOnly, Lax, 400 days", device.HttpOnly, device.SameSite, device.MaxAge)
	}
	// Kept while valid, replaced when malformed.
	first := c.cookie(web.DeviceCookie)
	for _, ck := range c.get("/login").Cookies() {
		if ck.Name == web.DeviceCookie {
			t.Error("a valid device cookie was replaced")
		}
	}
	if c.cookie(web.DeviceCookie) != first {
		t.Error("the device cookie changed")
	}
	c.setCookie(web.DeviceCookie, "not-a-token")
	c.get("/login")
	if got := c.cookie(web.DeviceCookie); got == "not-a-token" || len(got) != 43 {
		t.Errorf("malformed device cookie became %q, want a fresh token", got)
	}
}

func TestLoginPasswordOnlySignsIn(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	m := newLoginMember(t, loginMemberOpts{})
	c := newClient(t, b.app)
	loginWantRedirect(t, loginPassword(t, c, "  "+strings.ToUpper(m.Username)+" ", m.password, ""), "/")
	if c.cookie(web.SessionCookie) == "" {
		t.Fatal("no session cookie after signing in")
	}
	if c.cookie(web.LoginCookie) != "" {
		t.Error("a login cookie was left behind")
	}
	loginWantSignedIn(t, c, m)
	// Signed in, the form has nothing to offer.
	loginWantRedirect(t, c.get("/login"), "/")
	loginWantRedirect(t, c.get("/login?next=/account/security"), "/account/security")

	// Signing in again rotates the session: the old cookie stops working.
	old := c.cookie(web.SessionCookie)
	loginWantRedirect(t, loginPassword(t, c, m.Username, m.password, ""), "/")
	if c.cookie(web.SessionCookie) == old {
		t.Fatal("the session was not rotated")
	}
	stale := newClient(t, b.app)
	stale.setCookie(web.SessionCookie, old)
	loginWantSignedOut(t, stale)
}

func TestLoginWrongPasswordKeepsUsername(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	m := newLoginMember(t, loginMemberOpts{})
	c := newClient(t, b.app)
	for _, username := range []string{m.Username, "nobody_" + m.Username} {
		r := loginPassword(t, c, username, "wrong password", "")
		wantStatus(t, r, http.StatusUnprocessableEntity)
		d := parse(t, r.body)
		if got := text(d.testID("login-problem")); got != "The username or password is not correct." {
			t.Errorf("problem %q", got)
		}
		form := d.testID("login-form")
		if got := formValue(t, form, "username"); got != username {
			t.Errorf("username %q not kept (got %q)", username, got)
		}
		if got := formValue(t, form, "password"); got != "" {
			t.Error("the password was echoed back")
		}
	}
	if c.cookie(web.SessionCookie) != "" {
		t.Error("a wrong password set a session cookie")
	}

	r := loginPassword(t, c, "", "", "")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	d := parse(t, r.body)
	if got := text(d.testID("error-username")); !strings.Contains(got, "Enter your username") {
		t.Errorf("username error %q", got)
	}
	if got := text(d.testID("error-password")); !strings.Contains(got, "Enter your password") {
		t.Errorf("password error %q", got)
	}
	d.testID("error-summary")
}

func TestLoginLockedAccountPointsToRecovery(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	m := newLoginMember(t, loginMemberOpts{})
	if err := testdb.Store(t).Ent.User.UpdateOneID(m.ID).SetStatus(user.StatusLocked).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, b.app)
	r := loginPassword(t, c, m.Username, m.password, "")
	wantStatus(t, r, http.StatusForbidden)
	locked := parse(t, r.body).testID("login-locked")
	if links := all(locked, hasAttr("href", "/recover")); len(links) != 1 {
		t.Error("the locked-account message does not link to /recover")
	}
	if c.cookie(web.SessionCookie) != "" || c.cookie(web.LoginCookie) != "" {
		t.Error("a locked account got a cookie")
	}
}

func TestLoginRateLimitedWithRetryAfter(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	m := newLoginMember(t, loginMemberOpts{})
	c := newClient(t, b.app)
	token := loginCSRF(t, c)
	var r response
	for i := range 11 {
		r = c.postForm("/login", url.Values{web.CSRFField: {token}, "username": {m.Username}, "password": {"wrong " + strconv.Itoa(i)}})
		if i < 10 {
			wantStatus(t, r, http.StatusUnprocessableEntity)
		}
	}
	wantStatus(t, r, http.StatusTooManyRequests)
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s <= 0 {
		t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	if !strings.Contains(r.body, "Too many attempts") {
		t.Error("the 429 page does not say why")
	}
	// The right password is refused too while the limit holds.
	r = c.postForm("/login", url.Values{web.CSRFField: {token}, "username": {m.Username}, "password": {m.password}})
	wantStatus(t, r, http.StatusTooManyRequests)
}

func TestLoginTOTPHeldThenConfirmedInThisBrowser(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	m := newLoginMember(t, loginMemberOpts{totp: true, codes: 8})
	c := newClient(t, b.app)
	loginToSecondFactor(t, c, m)

	// The second-factor page offers what the member has.
	r := c.get("/login/2fa")
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	code := d.testID("totp-form")
	inputs := all(code, hasAttr("name", "code"))
	if len(inputs) != 1 {
		t.Fatal("no code input")
	}
	for name, want := range map[string]string{"inputmode": "numeric", "autocomplete": "one-time-code"} {
		if got, _ := attr(inputs[0], name); got != want {
			t.Errorf("code input %s=%q, want %q", name, got, want)
		}
	}
	d.testID("recovery-form")
	if d.hasTestID("key-login") {
		t.Error("a security-key button for a member without keys")
	}
	// The half-finished login does not authenticate.
	loginWantSignedOut(t, c)

	loginWantRedirect(t, loginPost(t, c, "/login/2fa/totp", url.Values{"code": {m.code()}}), "/login/held")
	if c.cookie(web.SessionCookie) != "" {
		t.Fatal("signed in before the confirmation")
	}
	r = c.get("/login/held")
	wantStatus(t, r, http.StatusOK)
	d = parse(t, r.body)
	if !strings.Contains(text(d.testID("login-held")), "Open it in this browser") {
		t.Errorf("waiting page says %q", text(d.testID("login-held")))
	}
	if v := mustAttr(t, d.testID("held-refresh"), "http-equiv"); v != "refresh" {
		t.Errorf("meta http-equiv=%q", v)
	}
	if v := mustAttr(t, d.testID("held-refresh"), "content"); !strings.HasPrefix(v, "5;") {
		t.Errorf("meta refresh content=%q", v)
	}
	d.testID("held-sent-at")
	loginWantSignedOut(t, c)

	token, mail := loginConfirmationToken(t, m)
	if want := "Unrecognized login to your " + testSite + " account"; mail.Subject != want {
		t.Errorf("subject %q, want %q", mail.Subject, want)
	}

	// Another browser (another device cookie) confirms nothing.
	other := newClient(t, b.app)
	r = other.get("/login/confirm?token=" + token)
	wantStatus(t, r, http.StatusOK)
	d = parse(t, r.body)
	r = other.postForm("/login/confirm", url.Values{web.CSRFField: {formValue(t, d.testID("confirm-form"), web.CSRFField)}, "token": {token}})
	wantStatus(t, r, http.StatusForbidden)
	page := text(parse(t, r.body).testID("confirm-wrong_browser"))
	for _, want := range []string{"only works in the browser where you signed in", "Nothing was confirmed", "change your password"} {
		if !strings.Contains(page, want) {
			t.Errorf("wrong-browser page lacks %q: %s", want, page)
		}
	}
	if other.cookie(web.SessionCookie) != "" {
		t.Error("the other browser got a session")
	}
	// Still held: the waiting page has not completed.
	r = c.get("/login/held")
	wantStatus(t, r, http.StatusOK)
	status := c.get("/login/held/status")
	wantStatus(t, status, http.StatusOK)
	if strings.TrimSpace(status.body) != `{"done":false}` {
		t.Errorf("status before confirmation: %s", status.body)
	}

	// Opening the link changed nothing; confirming in this browser signs in.
	loginWantRedirect(t, loginConfirmHere(t, c, token), "/")
	loginWantSignedIn(t, c, m)
	if c.cookie(web.LoginCookie) != "" {
		t.Error("the login cookie outlived the sign-in")
	}
	n, err := testdb.Store(t).Ent.TrustedDevice.Query().Where(trusteddevice.UserID(m.ID)).Count(context.Background())
	if err != nil || n != 1 {
		t.Errorf("%d trusted devices (%v), want 1", n, err)
	}

	// The link works once: opening it again says so at once, and so does
	// the button of a page opened before.
	r = c.get("/login/confirm?token=" + token)
	wantStatus(t, r, http.StatusConflict)
	d = parse(t, r.body)
	d.testID("confirm-used")
	if d.hasTestID("confirm-form") {
		t.Error("the page of a used link shows the confirm button")
	}
	r = c.postForm("/login/confirm", url.Values{web.CSRFField: {loginCSRF(t, c)}, "token": {token}})
	wantStatus(t, r, http.StatusConflict)
	parse(t, r.body).testID("confirm-used")
}

func TestLoginHeldPageCompletesByItself(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	m := newLoginMember(t, loginMemberOpts{totp: true})
	c := newClient(t, b.app)
	loginHeldWithTOTP(t, c, m)
	token, _ := loginConfirmationToken(t, m)

	// Another tab of the same browser: same device cookie, and here no
	// login cookie (as when the tab's copy has gone).
	tab := newClient(t, b.app)
	tab.setCookie(web.DeviceCookie, c.cookie(web.DeviceCookie))
	loginCSRF(t, tab)
	r := loginConfirmHere(t, tab, token)
	wantStatus(t, r, http.StatusOK)
	if got := text(parse(t, r.body).testID("confirm-done")); !strings.Contains(got, "Return to the browser tab where you signed in") {
		t.Errorf("confirmed page says %q", got)
	}
	if tab.cookie(web.SessionCookie) != "" {
		t.Error("the tab without the login got a session")
	}

	// The waiting tab's poll completes the sign-in and sets the cookie.
	status := c.get("/login/held/status")
	wantStatus(t, status, http.StatusOK)
	var got struct {
		Done     bool   `json:"done"`
		Redirect string `json:"redirect"`
	}
	if err := json.Unmarshal([]byte(status.body), &got); err != nil {
		t.Fatalf("status %s: %v", status.body, err)
	}
	if !got.Done || got.Redirect != "/" {
		t.Fatalf("status after confirmation: %s", status.body)
	}
	loginWantSignedIn(t, c, m)
}

func TestLoginHeldWaitingPageReloadCompletes(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	m := newLoginMember(t, loginMemberOpts{totp: true})
	c := newClient(t, b.app)
	loginToSecondFactor(t, c, m)
	loginWantRedirect(t, loginPost(t, c, "/login/2fa/totp", url.Values{"code": {m.code()}, "next": {"/projects/"}}), "/login/held?next=%2Fprojects%2F")
	token, _ := loginConfirmationToken(t, m)
	if err := b.account.Login.ConfirmHeld(context.Background(), token, account.Attempt{IP: c.ip, DeviceToken: c.cookie(web.DeviceCookie)}); err != nil {
		t.Fatal(err)
	}
	// The meta refresh reloads the page, which now completes the login.
	loginWantRedirect(t, c.get("/login/held?next=%2Fprojects%2F"), "/projects/")
	loginWantSignedIn(t, c, m)
}

func TestLoginHeldResendTooSoon(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	m := newLoginMember(t, loginMemberOpts{totp: true})
	c := newClient(t, b.app)
	loginHeldWithTOTP(t, c, m)
	r := loginPost(t, c, "/login/held/resend", url.Values{})
	wantStatus(t, r, http.StatusTooManyRequests)
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s <= 0 || s > int(account.ResendInterval.Seconds()) {
		t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	msg := text(parse(t, r.body).testID("held-resend-error"))
	if !regexp.MustCompile(`ask for another after \d\d:\d\d UTC`).MatchString(msg) {
		t.Errorf("resend message %q lacks the time", msg)
	}
	if n := loginMailCount(t, m, account.MailUnrecognizedLogin); n != 1 {
		t.Errorf("%d confirmation mails, want 1", n)
	}
}

func TestLoginHeldResendReplacesTheLink(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	m := newLoginMember(t, loginMemberOpts{totp: true})
	c := newClient(t, b.app)
	loginHeldWithTOTP(t, c, m)
	old, _ := loginConfirmationToken(t, m)
	// Pretend the first email went out longer ago than the resend interval.
	ctx := context.Background()
	if err := testdb.Store(t).Ent.PendingLogin.Update().Where(pendinglogin.UserID(m.ID)).
		SetLastEmailSentAt(time.Now().Add(-account.ResendInterval - time.Minute)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	r := loginPost(t, c, "/login/held/resend", url.Values{})
	loginWantRedirect(t, r, "/login/held")
	r = c.get("/login/held")
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	if got := text(d.testID("flash")); !strings.Contains(got, "We sent the email again") {
		t.Errorf("flash %q", got)
	}
	if !d.hasTestID("held-resend-wait") {
		t.Error("the page does not say when another email can be asked for")
	}
	if n := loginMailCount(t, m, account.MailUnrecognizedLogin); n != 2 {
		t.Fatalf("%d confirmation mails, want 2", n)
	}
	fresh, _ := loginConfirmationToken(t, m)
	if fresh == old {
		t.Fatal("the new email carries the old link")
	}
	// The old link no longer works; the new one does.
	r = c.postForm("/login/confirm", url.Values{web.CSRFField: {loginCSRF(t, c)}, "token": {old}})
	wantStatus(t, r, http.StatusNotFound)
	loginWantRedirect(t, loginConfirmHere(t, c, fresh), "/")
	loginWantSignedIn(t, c, m)
}

func TestLoginRecoveryCodeIsBurned(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	m := newLoginMember(t, loginMemberOpts{totp: true, codes: 3})
	c := newClient(t, b.app)
	loginToSecondFactor(t, c, m)
	used := strings.ToUpper(m.codes[1]) // forgiving of case
	loginWantRedirect(t, loginPost(t, c, "/login/2fa/recovery", url.Values{"recovery_code": {used}}), "/login/held")
	token, _ := loginConfirmationToken(t, m)
	loginWantRedirect(t, loginConfirmHere(t, c, token), "/")
	loginWantSignedIn(t, c, m)

	ctx := context.Background()
	left, err := testdb.Store(t).Ent.RecoveryCode.Query().Where(recoverycode.UserID(m.ID), recoverycode.UsedAtIsNil()).Count(ctx)
	if err != nil || left != 2 {
		t.Errorf("%d unused codes (%v), want 2", left, err)
	}
	if n := loginMailCount(t, m, account.MailRecoveryCodeUsed); n != 1 {
		t.Errorf("%d recovery-code-used mails, want 1", n)
	}

	// The same code again, from a fresh browser: refused next to the field.
	again := newClient(t, b.app)
	loginToSecondFactor(t, again, m)
	r := loginPost(t, again, "/login/2fa/recovery", url.Values{"recovery_code": {m.codes[1]}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	d := parse(t, r.body)
	if got := text(d.testID("error-recovery_code")); !strings.Contains(got, "not valid or was already used") {
		t.Errorf("recovery error %q", got)
	}
	if _, open := attr(d.testID("recovery-option"), "open"); !open {
		t.Error("the recovery form is folded away after its error")
	}
	if got := formValue(t, d.testID("recovery-form"), "recovery_code"); got != "" {
		t.Error("the refused code was echoed back")
	}
}

func TestLoginTOTPErrorsNextToTheField(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	m := newLoginMember(t, loginMemberOpts{totp: true})
	c := newClient(t, b.app)
	used := loginHeldWithTOTP(t, c, m)
	token, _ := loginConfirmationToken(t, m)
	loginWantRedirect(t, loginConfirmHere(t, c, token), "/")

	// This browser is trusted now, so a good code would sign in at once;
	// the code just used is refused as a replay all the same.
	for _, tc := range []struct {
		code, want string
	}{
		{"12ab", "Enter the 6-digit code"},
		{account.TOTPCode(m.secret, account.TOTPStep(time.Now())+40), "That code is not correct"},
		{used, "That code was already used"},
	} {
		loginToSecondFactor(t, c, m)
		r := loginPost(t, c, "/login/2fa/totp", url.Values{"code": {tc.code}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		d := parse(t, r.body)
		if got := text(d.testID("error-code")); !strings.Contains(got, tc.want) {
			t.Errorf("code %q: error %q, want %q", tc.code, got, tc.want)
		}
		input := all(d.testID("totp-form"), hasAttr("name", "code"))[0]
		if v, _ := attr(input, "aria-invalid"); v != "true" {
			t.Errorf("code %q: input not marked invalid", tc.code)
		}
		if v, _ := attr(input, "aria-describedby"); !strings.Contains(v, "field-code-error") {
			t.Errorf("code %q: error not tied to the input (%q)", tc.code, v)
		}
		if c.cookie(web.LoginCookie) == "" {
			t.Fatalf("code %q: the half-finished login was dropped", tc.code)
		}
	}

	// A newer code signs this trusted browser in without another email
	// (the fifth second-factor attempt in five minutes: the last allowed).
	loginToSecondFactor(t, c, m)
	next := account.TOTPCode(m.secret, account.TOTPStep(time.Now())+1)
	loginWantRedirect(t, loginPost(t, c, "/login/2fa/totp", url.Values{"code": {next}}), "/")
	if n := loginMailCount(t, m, account.MailUnrecognizedLogin); n != 1 {
		t.Errorf("a trusted browser was held again (%d confirmation mails, want 1)", n)
	}
	loginWantSignedIn(t, c, m)
}

func TestLogin2FARateLimited(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	m := newLoginMember(t, loginMemberOpts{totp: true, codes: 1})
	c := newClient(t, b.app)
	loginToSecondFactor(t, c, m)
	bad := account.TOTPCode(m.secret, account.TOTPStep(time.Now())+40)
	for range 5 {
		wantStatus(t, loginPost(t, c, "/login/2fa/totp", url.Values{"code": {bad}}), http.StatusUnprocessableEntity)
	}
	r := loginPost(t, c, "/login/2fa/totp", url.Values{"code": {m.code()}})
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// Recovery codes share the limit.
	r = loginPost(t, c, "/login/2fa/recovery", url.Values{"recovery_code": {m.codes[0]}})
	wantStatus(t, r, http.StatusTooManyRequests)
	if c.cookie(web.SessionCookie) != "" {
		t.Error("signed in past the limit")
	}
}

func TestLoginHalfFinishedCookieDoesNotAuthenticate(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	m := newLoginMember(t, loginMemberOpts{totp: true})
	c := newClient(t, b.app)
	loginToSecondFactor(t, c, m)
	pending := c.cookie(web.LoginCookie)
	loginWantSignedOut(t, c)

	// Not as a session cookie either.
	forged := newClient(t, b.app)
	forged.setCookie(web.SessionCookie, pending)
	loginWantSignedOut(t, forged)
	if forged.cookie(web.SessionCookie) != "" {
		t.Error("the forged session cookie was not dropped")
	}
}

func TestLoginWithoutPendingLoginStartsAgain(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	c := newClient(t, b.app)
	for _, path := range []string{"/login/2fa", "/login/held"} {
		r := c.get(path)
		loginWantRedirect(t, r, "/login")
		r = c.get("/login")
		if got := text(parse(t, r.body).testID("flash")); !strings.Contains(got, "expired") {
			t.Errorf("%s: flash %q", path, got)
		}
	}
	r := loginPost(t, c, "/login/2fa/totp", url.Values{"code": {"123456"}})
	loginWantRedirect(t, r, "/login")
}

func TestLoginNextIsLocalOnly(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	m := newLoginMember(t, loginMemberOpts{})
	for _, tc := range []struct{ next, want string }{
		{"//evil.example", "/"},
		{"https://evil.example", "/"},
		{"/\\evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"/account/security?tab=keys", "/account/security?tab=keys"},
	} {
		c := newClient(t, b.app)
		r := c.get("/login?next=" + url.QueryEscape(tc.next))
		form := parse(t, r.body).testID("login-form")
		hidden := all(form, hasAttr("name", "next"))
		if tc.want == "/" && len(hidden) != 0 {
			t.Errorf("next %q: carried in the form", tc.next)
		}
		loginWantRedirect(t, loginPassword(t, c, m.Username, m.password, tc.next), tc.want)
	}
}

func TestLoginMustEnrollGoesToTOTPSetup(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	m := newLoginMember(t, loginMemberOpts{})
	if err := testdb.Store(t).Ent.User.UpdateOneID(m.ID).SetMustEnroll2fa(true).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, b.app)
	loginWantRedirect(t, loginPassword(t, c, m.Username, m.password, "/projects/"), "/account/2fa/totp")
	if c.cookie(web.SessionCookie) == "" {
		t.Error("not signed in")
	}
}

func TestLoginConfirmLinkProblems(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	c := newClient(t, b.app)
	r := c.get("/login/confirm")
	wantStatus(t, r, http.StatusNotFound)
	parse(t, r.body).testID("confirm-invalid")
	token := loginCSRF(t, c)
	r = c.postForm("/login/confirm", url.Values{web.CSRFField: {token}, "token": {"forged-token"}})
	wantStatus(t, r, http.StatusNotFound)
	parse(t, r.body).testID("confirm-invalid")
	// A GET with an unknown token says at once that it is not valid.
	r = c.get("/login/confirm?token=whatever")
	wantStatus(t, r, http.StatusNotFound)
	if d := parse(t, r.body); !d.hasTestID("confirm-invalid") || d.hasTestID("confirm-form") {
		t.Error("an unknown link's page is not the invalid-link page, or shows the button")
	}
}

// loginJSON posts JSON to a WebAuthn endpoint with the CSRF header.
func loginJSON(t *testing.T, c *client, path, body, csrf string) (response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, testBase+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if csrf != "" {
		req.Header.Set(web.CSRFHeader, csrf)
	}
	r := c.do(req)
	var v map[string]any
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal([]byte(r.body), &v); err != nil {
			t.Fatalf("%s: %v: %s", path, err, r.body)
		}
	}
	return r, v
}

func TestLoginPasskeyEndpoints(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	c := newClient(t, b.app)
	csrf := loginCSRF(t, c)

	r, _ := loginJSON(t, c, "/login/passkey/begin", "{}", "")
	wantStatus(t, r, http.StatusForbidden) // no CSRF header

	r, v := loginJSON(t, c, "/login/passkey/begin", "{}", csrf)
	wantStatus(t, r, http.StatusOK)
	pk, _ := v["publicKey"].(map[string]any)
	if ch, _ := pk["challenge"].(string); len(ch) < 16 || strings.ContainsAny(ch, "+/=") {
		t.Errorf("challenge %q is not base64url", ch)
	}
	if c.cookie(web.LoginCookie) == "" {
		t.Error("the passkey ceremony has no login cookie")
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Error("options may be cached")
	}

	r, v = loginJSON(t, c, "/login/passkey/finish", `{"id":"x","rawId":"eA","type":"public-key","response":{}}`, csrf)
	wantStatus(t, r, http.StatusBadRequest)
	if msg, _ := v["error"].(string); !strings.Contains(msg, "could not be verified") {
		t.Errorf("finish error %q", msg)
	}
	if c.cookie(web.SessionCookie) != "" {
		t.Error("a bad passkey answer signed in")
	}
}

func TestLogin2FAWebAuthnEndpointsNeedAPendingLogin(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	m := newLoginMember(t, loginMemberOpts{totp: true})
	c := newClient(t, b.app)
	csrf := loginCSRF(t, c)
	r, v := loginJSON(t, c, "/login/2fa/webauthn/begin", "{}", csrf)
	wantStatus(t, r, http.StatusBadRequest)
	if msg, _ := v["error"].(string); !strings.Contains(msg, "expired") {
		t.Errorf("begin without a login: %q", msg)
	}
	// A member without keys cannot start a key ceremony.
	loginToSecondFactor(t, c, m)
	r, v = loginJSON(t, c, "/login/2fa/webauthn/begin", "{}", csrf)
	wantStatus(t, r, http.StatusBadRequest)
	if msg, _ := v["error"].(string); msg == "" {
		t.Error("no error message")
	}
	r, v = loginJSON(t, c, "/login/2fa/webauthn/finish", `{}`, csrf)
	wantStatus(t, r, http.StatusBadRequest)
	if msg, _ := v["error"].(string); msg == "" {
		t.Error("no error message")
	}
	if c.cookie(web.SessionCookie) != "" {
		t.Error("signed in without a second factor")
	}
}
