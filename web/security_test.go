package web_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/recoverycode"
	"github.com/recoverydesk/recoverydesk/ent/totpcredential"
	"github.com/recoverydesk/recoverydesk/ent/trusteddevice"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/web"
)

const secFirefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

// secUser is a signed-in user with a password, a verified primary address
// (security mail goes there) and the second factors a test asked for.
type secUser struct {
	*ent.User
	password  string
	secret    []byte   // TOTP secret; nil without TOTP
	codes     []string // unused recovery codes
	c         *client
	sessionID int
}

type secOpts struct {
	totp  bool
	codes int
	key   bool // a WebAuthn credential row
}

func newSecUser(t *testing.T, b *bundle, o secOpts) *secUser {
	t.Helper()
	ctx := context.Background()
	db := testdb.Store(t).Ent
	name := fmt.Sprintf("sec%d_%d", time.Now().UnixNano(), userSeq.Add(1))
	pw := "a long and unusual passphrase " + name
	hash, err := account.HashPassword(pw, cheapPasswords)
	if err != nil {
		t.Fatal(err)
	}
	u, err := db.User.Create().SetUsername(name).SetUsernameNormalized(name).SetDisplayName("Sec " + name).SetPasswordHash(hash).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	addr := name + "@example.org"
	if err := db.EmailAddress.Create().SetUserID(u.ID).SetAddress(addr).SetAddressNormalized(addr).SetPrimary(true).SetVerifiedAt(time.Now()).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	s := &secUser{User: u, password: pw}
	if o.totp {
		s.secret, _ = account.NewTOTPSecret()
		if err := db.TOTPCredential.Create().SetUserID(u.ID).SetSecret(s.secret).SetConfirmedAt(time.Now()).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if o.codes > 0 {
		s.codes, _ = account.NewRecoveryCodes(o.codes)
		for _, c := range s.codes {
			if err := db.RecoveryCode.Create().SetUserID(u.ID).SetCodeHash(account.HashRecoveryCode(c)).SetBatch(1).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if o.key {
		secAddKey(t, u.ID, "Blue key")
	}
	s.c, s.sessionID = s.newSession(t, b)
	return s
}

// newSession signs the user in on a new client, as a fresh login would.
func (s *secUser) newSession(t *testing.T, b *bundle) (*client, int) {
	t.Helper()
	ctx := context.Background()
	c := newClient(t, b.app)
	token, err := b.account.Sessions.Create(ctx, nil, s.ID, account.SessionMeta{IP: c.ip, UserAgent: secFirefox, AuthMethods: []string{"password", "totp"}})
	if err != nil {
		t.Fatal(err)
	}
	c.setCookie(web.SessionCookie, token)
	sess, err := b.account.Sessions.Lookup(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	return c, sess.ID
}

// post sends a form from the security page, with its CSRF token.
func (s *secUser) post(t *testing.T, path string, form url.Values) response {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set(web.CSRFField, tokenFromPage(t, s.c, "/account/security"))
	return s.c.postForm(path, form)
}

// postJSON sends a JSON body with the CSRF header, as webauthn.js does.
func (s *secUser) postJSON(t *testing.T, path string, body any) (response, map[string]any) {
	t.Helper()
	token := tokenFromPage(t, s.c, "/account/security")
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, testBase+path, strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(web.CSRFHeader, token)
	r := s.c.do(req)
	var out map[string]any
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatalf("POST %s: status %d, not JSON: %s", path, r.StatusCode, r.body)
	}
	return r, out
}

// ageSession moves the session's sign-in back, so re-authentication is due.
func ageSession(t *testing.T, sessionID int, by time.Duration) {
	t.Helper()
	// created_at is immutable in ent.
	if _, err := testdb.Store(t).Pool.Exec(context.Background(),
		"UPDATE sessions SET created_at = created_at - $1::interval WHERE id = $2", fmt.Sprintf("%d seconds", int(by.Seconds())), sessionID); err != nil {
		t.Fatal(err)
	}
}

func secAddKey(t *testing.T, userID int, name string) *ent.WebAuthnCredential {
	t.Helper()
	id := make([]byte, 32)
	_, _ = rand.Read(id)
	k, err := testdb.Store(t).Ent.WebAuthnCredential.Create().SetUserID(userID).SetName(name).
		SetCredentialID(id).SetPublicKey([]byte("not a real key")).Save(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// wantSeeOther checks a 303 to exactly path.
func wantSeeOther(t *testing.T, r response, path string) {
	t.Helper()
	wantStatus(t, r, http.StatusSeeOther)
	if got := r.Header.Get("Location"); got != path {
		t.Fatalf("%s %s redirects to %q, want %q", r.Request.Method, r.Request.URL.Path, got, path)
	}
}

// flashAfter follows a redirect and returns the flash message shown.
func flashAfter(t *testing.T, c *client, r response) string {
	t.Helper()
	next := c.get(r.Header.Get("Location"))
	wantStatus(t, next, http.StatusOK)
	d := parse(t, next.body)
	if !d.hasTestID("flash") {
		t.Fatalf("no flash on %s", r.Header.Get("Location"))
	}
	return text(d.testID("flash"))
}

func rowsOf(d doc, testID string) []*html.Node { return d.all(hasAttr("data-testid", testID)) }

func rowWithID(t *testing.T, d doc, testID string, id int) *html.Node {
	t.Helper()
	for _, n := range rowsOf(d, testID) {
		if v, _ := attr(n, "data-id"); v == strconv.Itoa(id) {
			return n
		}
	}
	return nil
}

func TestSecurityPageNeedsSignIn(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)
	for _, path := range []string{"/account/security", "/account/2fa/totp", "/projects"} {
		r := c.get(path)
		wantStatus(t, r, http.StatusSeeOther)
		loc, err := url.Parse(r.Header.Get("Location"))
		if err != nil || loc.Path != "/login" || loc.Query().Get("next") != path {
			t.Errorf("GET %s signed out redirects to %q, want /login?next=%s", path, r.Header.Get("Location"), path)
		}
	}
}

func TestWithout2FASecurityPageWorksAndManagementRedirects(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	u := newSecUser(t, b, secOpts{})

	r := u.c.get("/account/security")
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	wantLayout(t, d)
	if got := text(d.testID("2fa-status")); !strings.HasPrefix(got, "Off.") {
		t.Errorf("2FA status %q, want Off", got)
	}
	if href := mustAttr(t, d.testID("totp-setup-link"), "href"); href != "/account/2fa/totp" {
		t.Errorf("setup link %q", href)
	}

	for _, path := range []string{"/projects", "/projects/anything", "/account/password"} {
		r := u.c.get(path)
		wantSeeOther(t, r, "/account/2fa/totp")
		if msg := flashAfter(t, u.c, r); !strings.Contains(msg, "Two-factor authentication is required to manage projects and account settings") {
			t.Errorf("%s: banner %q", path, msg)
		}
	}
	// A POST to a 2FA-only action is sent to setup too.
	wantSeeOther(t, u.post(t, "/account/sessions/"+strconv.Itoa(u.sessionID)+"/revoke", nil), "/account/2fa/totp")
}

func TestTOTPEnrolmentShowsCodesOnceAndRotatesSession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, setupOpts{noDevMail: true})
	db := testdb.Store(t).Ent
	u := newSecUser(t, b, secOpts{})
	oldToken := u.c.cookie(web.SessionCookie)

	r := u.c.get("/account/2fa/totp")
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	fig := d.testID("totp-qr")
	if fig.Data != "figure" || len(all(fig, isTag("svg"))) != 1 || len(all(fig, isTag("figcaption"))) != 1 {
		t.Fatalf("QR code is not an <svg> in a captioned <figure>")
	}
	pending, err := db.TOTPCredential.Query().Where(totpcredential.UserID(u.ID)).Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	shown := text(d.testID("totp-secret"))
	if shown != account.FormatTOTPSecret(pending.Secret) {
		t.Fatalf("secret shown %q, want the pending one", shown)
	}
	// Reloading keeps the secret an app may have scanned already.
	if again := text(parse(t, u.c.get("/account/2fa/totp").body).testID("totp-secret")); again != shown {
		t.Errorf("reload changed the secret: %q then %q", shown, again)
	}

	right := account.TOTPCode(pending.Secret, account.TOTPStep(time.Now()))
	wrong := fmt.Sprintf("%06d", (mustAtoi(t, right)+500_000)%1_000_000)
	token := tokenFromPage(t, u.c, "/account/2fa/totp")
	r = u.c.postForm("/account/2fa/totp", url.Values{web.CSRFField: {token}, "code": {wrong}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	d = parse(t, r.body)
	if got := text(d.testID("error-code")); !strings.Contains(got, "not correct") {
		t.Errorf("error next to the code field %q", got)
	}
	if v, _ := attr(d.all(hasAttr("name", "code"))[0], "aria-invalid"); v != "true" {
		t.Error("code field not marked invalid")
	}
	if text(d.testID("totp-secret")) != shown {
		t.Error("the page after a wrong code shows another secret")
	}

	r = u.c.postForm("/account/2fa/totp", url.Values{web.CSRFField: {token}, "code": {right}})
	wantStatus(t, r, http.StatusOK)
	d = parse(t, r.body)
	codes := all(d.testID("recovery-codes"), isTag("code"))
	if len(codes) != account.RecoveryCodeCount {
		t.Fatalf("%d recovery codes shown, want %d", len(codes), account.RecoveryCodeCount)
	}
	if !strings.Contains(text(d.testID("main")), "Save these now; they will not be shown again") {
		t.Error("no warning that the codes are shown once")
	}
	if n, err := db.RecoveryCode.Query().Where(recoverycode.UserID(u.ID), recoverycode.CodeHash(account.HashRecoveryCode(text(codes[0])))).Count(ctx); err != nil || n != 1 {
		t.Errorf("shown code not stored hashed (%d rows, %v)", n, err)
	}

	// Privilege change: a new session token, the old one dead.
	newToken := u.c.cookie(web.SessionCookie)
	if newToken == "" || newToken == oldToken {
		t.Fatal("session token not rotated")
	}
	if _, err := b.sessions.Lookup(ctx, oldToken); !errors.Is(err, account.ErrSessionNotFound) {
		t.Errorf("old session after rotation: %v", err)
	}
	// The codes page's own forms work with the new session.
	if got := formValue(t, d.testID("logout-form"), web.CSRFField); got == token {
		t.Error("page after rotation carries the old session's CSRF token")
	}

	wantStatus(t, u.c.get("/projects"), http.StatusOK)
	sec := parse(t, u.c.get("/account/security").body)
	if got := text(sec.testID("2fa-status")); !strings.HasPrefix(got, "On.") {
		t.Errorf("2FA status after enrolment %q", got)
	}
	if got := text(sec.testID("recovery-codes-left")); !strings.HasPrefix(got, "8 of 8") {
		t.Errorf("recovery codes left %q", got)
	}
	if strings.Contains(text(sec.testID("main")), text(codes[0])) {
		t.Error("the security page shows a recovery code")
	}
	if !strings.Contains(text(sec.testID("events")), "Authenticator app added") {
		t.Error("no TOTP event on the security page")
	}
	for _, purpose := range []string{account.MailSecondFactorAdded, account.MailRecoveryCodesGenerated} {
		if n, err := db.OutboundMail.Query().Where(outboundmail.UserID(u.ID), outboundmail.Purpose(purpose)).Count(ctx); err != nil || n != 1 {
			t.Errorf("%d %s mails, want 1 (%v)", n, purpose, err)
		}
	}
	// Setup again: already set up.
	wantSeeOther(t, u.c.get("/account/2fa/totp"), "/account/security")
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRevokeAnotherSession(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	u := newSecUser(t, b, secOpts{totp: true})
	other, otherID := u.newSession(t, b)
	wantStatus(t, other.get("/account/security"), http.StatusOK)

	d := parse(t, u.c.get("/account/security").body)
	if n := len(rowsOf(d, "session")); n != 2 {
		t.Fatalf("%d sessions listed, want 2", n)
	}
	mine := rowWithID(t, d, "session", u.sessionID)
	if mine == nil || len(all(mine, hasAttr("data-testid", "this-browser"))) != 1 {
		t.Error("this browser's session is not marked")
	}
	theirs := rowWithID(t, d, "session", otherID)
	if theirs == nil || !strings.Contains(text(theirs), "Firefox 128 on Linux") || !strings.Contains(text(theirs), other.ip) {
		t.Fatalf("other session row %q", text(theirs))
	}
	action := mustAttr(t, all(theirs, isTag("form"))[0], "action")

	r := u.post(t, action, nil)
	wantSeeOther(t, r, "/account/security")
	if msg := flashAfter(t, u.c, r); !strings.Contains(msg, "signed out") {
		t.Errorf("flash %q", msg)
	}
	// The revoked cookie no longer authenticates.
	r = other.get("/account/security")
	wantStatus(t, r, http.StatusSeeOther)
	if !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Errorf("revoked session goes to %q, want the login page", r.Header.Get("Location"))
	}
	if n := len(rowsOf(parse(t, u.c.get("/account/security").body), "session")); n != 1 {
		t.Errorf("%d sessions listed after revoking, want 1", n)
	}
	// Someone else's session id is refused.
	stranger := newSecUser(t, b, secOpts{totp: true})
	r = u.post(t, "/account/sessions/"+strconv.Itoa(stranger.sessionID)+"/revoke", nil)
	wantSeeOther(t, r, "/account/security")
	wantStatus(t, stranger.c.get("/account/security"), http.StatusOK)
}

func TestRevokeTrustedDevice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, setupOpts{noDevMail: true})
	db := testdb.Store(t).Ent
	u := newSecUser(t, b, secOpts{totp: true})
	dev, err := db.TrustedDevice.Create().SetUserID(u.ID).SetDeviceHash([]byte("device-" + u.Username)).
		SetUserAgent(secFirefox).SetIP("203.0.113.9").SetLastUsedAt(time.Now().Add(-time.Hour)).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}

	d := parse(t, u.c.get("/account/security").body)
	row := rowWithID(t, d, "device", dev.ID)
	if row == nil {
		t.Fatal("trusted device not listed")
	}
	if got := text(row); !strings.Contains(got, "Firefox 128 on Linux") || !strings.Contains(got, "203.0.113.9") || len(all(row, isTag("time"))) != 3 {
		t.Errorf("device row %q: want browser, IP, trusted since, last used and expiry", got)
	}
	r := u.post(t, mustAttr(t, all(row, isTag("form"))[0], "action"), nil)
	wantSeeOther(t, r, "/account/security")
	if msg := flashAfter(t, u.c, r); !strings.Contains(msg, "no longer trusted") {
		t.Errorf("flash %q", msg)
	}
	if ok, err := db.TrustedDevice.Query().Where(trusteddevice.ID(dev.ID), trusteddevice.RevokedAtNotNil()).Exist(ctx); err != nil || !ok {
		t.Errorf("device not revoked (%v)", err)
	}
	d = parse(t, u.c.get("/account/security").body)
	if rowWithID(t, d, "device", dev.ID) != nil {
		t.Error("revoked device still listed")
	}
	if !strings.Contains(text(d.testID("events")), account.EventDeviceRevoked.Describe()) {
		t.Error("no event for the revoked device")
	}
}

func TestRecoveryCodesRegenerationNeedsReauth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, setupOpts{noDevMail: true})
	db := testdb.Store(t).Ent
	u := newSecUser(t, b, secOpts{totp: true, codes: 8})
	ageSession(t, u.sessionID, 20*time.Minute)

	d := parse(t, u.c.get("/account/security").body)
	if got := text(d.testID("recovery-codes-left")); !strings.HasPrefix(got, "8 of 8") {
		t.Errorf("codes left %q", got)
	}
	r := u.post(t, "/account/2fa/recovery-codes", nil)
	wantSeeOther(t, r, "/account/reauth?next=/account/security")

	page := u.c.get(r.Header.Get("Location"))
	wantStatus(t, page, http.StatusOK)
	form := parse(t, page.body).testID("reauth-form")
	if next := formValue(t, form, "next"); next != "/account/security" {
		t.Errorf("reauth form next %q", next)
	}
	token := formValue(t, form, web.CSRFField)
	r = u.c.postForm("/account/reauth", url.Values{web.CSRFField: {token}, "next": {"/account/security"}, "password": {"wrong password"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if got := text(parse(t, r.body).testID("error-password")); !strings.Contains(got, "not correct") {
		t.Errorf("password error %q", got)
	}
	// A next leading off the site is ignored.
	r = u.c.postForm("/account/reauth", url.Values{web.CSRFField: {token}, "next": {"//evil.example/x"}, "password": {u.password}})
	wantSeeOther(t, r, "/account/security")

	r = u.post(t, "/account/2fa/recovery-codes", nil)
	wantStatus(t, r, http.StatusOK)
	codes := all(parse(t, r.body).testID("recovery-codes"), isTag("code"))
	if len(codes) != account.RecoveryCodeCount {
		t.Fatalf("%d new codes, want %d", len(codes), account.RecoveryCodeCount)
	}
	if _, err := account.UseRecoveryCode(ctx, db, u.ID, u.codes[0], time.Now()); !errors.Is(err, account.ErrRecoveryCodeInvalid) {
		t.Errorf("an old code after regeneration: %v, want ErrRecoveryCodeInvalid", err)
	}
	if _, err := account.UseRecoveryCode(ctx, db, u.ID, text(codes[3]), time.Now()); err != nil {
		t.Errorf("a new code: %v", err)
	}
}

func TestTOTPRemovalKeepsTheLastFactor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, setupOpts{noDevMail: true})
	db := testdb.Store(t).Ent
	u := newSecUser(t, b, secOpts{totp: true})

	r := u.post(t, "/account/2fa/totp/remove", nil)
	wantSeeOther(t, r, "/account/security")
	if msg := flashAfter(t, u.c, r); !strings.Contains(msg, "only second factor") {
		t.Errorf("flash %q", msg)
	}
	if ok, _ := db.TOTPCredential.Query().Where(totpcredential.UserID(u.ID)).Exist(ctx); !ok {
		t.Fatal("the last factor was removed")
	}

	secAddKey(t, u.ID, "Spare key")
	// Removal needs a recent authentication.
	ageSession(t, u.sessionID, 20*time.Minute)
	wantSeeOther(t, u.post(t, "/account/2fa/totp/remove", nil), "/account/reauth?next=/account/security")
	if ok, _ := db.TOTPCredential.Query().Where(totpcredential.UserID(u.ID)).Exist(ctx); !ok {
		t.Fatal("removed without re-authentication")
	}
	fresh, _ := u.newSession(t, b)
	u.c = fresh
	r = u.post(t, "/account/2fa/totp/remove", nil)
	wantSeeOther(t, r, "/account/security")
	if msg := flashAfter(t, u.c, r); !strings.Contains(msg, "removed") {
		t.Errorf("flash %q", msg)
	}
	if ok, _ := db.TOTPCredential.Query().Where(totpcredential.UserID(u.ID)).Exist(ctx); ok {
		t.Error("TOTP still there")
	}
	if n, _ := db.OutboundMail.Query().Where(outboundmail.UserID(u.ID), outboundmail.Purpose(account.MailSecondFactorRemoved)).Count(ctx); n != 1 {
		t.Errorf("%d removal mails, want 1", n)
	}
}

func TestSecurityKeyListAndRemoval(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, setupOpts{noDevMail: true})
	db := testdb.Store(t).Ent
	u := newSecUser(t, b, secOpts{})
	only := secAddKey(t, u.ID, "Only key")

	d := parse(t, u.c.get("/account/security").body)
	row := rowWithID(t, d, "key", only.ID)
	if row == nil || !strings.Contains(text(row), "Only key") || !strings.Contains(text(row), "Never") {
		t.Fatalf("key row missing or incomplete")
	}
	reg := d.testID("key-register")
	for name, want := range map[string]string{"data-webauthn": "register", "data-begin": "/account/keys/begin", "data-finish": "/account/keys/finish", "data-name-input": "key-name"} {
		if got := mustAttr(t, reg, name); got != want {
			t.Errorf("register control %s=%q, want %q", name, got, want)
		}
	}
	if _, hidden := attr(reg, "hidden"); !hidden {
		t.Error("the key control shows without JavaScript")
	}
	if len(d.all(hasAttr("id", "key-name"))) != 1 {
		t.Error("no key-name input")
	}

	action := mustAttr(t, all(row, isTag("form"))[0], "action")
	r := u.post(t, action, nil)
	wantSeeOther(t, r, "/account/security")
	if msg := flashAfter(t, u.c, r); !strings.Contains(msg, "only second factor") {
		t.Errorf("flash %q", msg)
	}
	spare := secAddKey(t, u.ID, "Spare key")
	ageSession(t, u.sessionID, 20*time.Minute)
	wantSeeOther(t, u.post(t, action, nil), "/account/reauth?next=/account/security")
	if rowWithID(t, parse(t, u.c.get("/account/security").body), "key", only.ID) == nil {
		t.Fatal("removed without re-authentication")
	}
	// An old session is offered re-authentication instead of the key control.
	if !parse(t, u.c.get("/account/security").body).hasTestID("key-register-reauth") {
		t.Error("no re-authentication link for adding a key")
	}
	u.c, _ = u.newSession(t, b)
	r = u.post(t, action, nil)
	wantSeeOther(t, r, "/account/security")
	d = parse(t, u.c.get("/account/security").body)
	if rowWithID(t, d, "key", only.ID) != nil || rowWithID(t, d, "key", spare.ID) == nil {
		t.Error("wrong key removed")
	}
	// Another user's key id.
	stranger := newSecUser(t, b, secOpts{totp: true})
	theirs := secAddKey(t, stranger.ID, "Theirs")
	r = u.post(t, "/account/keys/"+strconv.Itoa(theirs.ID)+"/remove", nil)
	wantSeeOther(t, r, "/account/security")
	if _, err := db.WebAuthnCredential.Get(ctx, theirs.ID); err != nil {
		t.Errorf("another user's key: %v", err)
	}
}

func TestSecurityKeyRegistrationEndpoints(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	u := newSecUser(t, b, secOpts{totp: true})
	secAddKey(t, u.ID, "Blue key")

	r, out := u.postJSON(t, "/account/keys/begin", map[string]string{"name": "blue KEY"})
	if r.StatusCode != http.StatusUnprocessableEntity || out["field"] != "name" || out["error"] == "" {
		t.Errorf("begin with a taken name: %d %v", r.StatusCode, out)
	}
	r, out = u.postJSON(t, "/account/keys/begin", map[string]string{"name": "Green key"})
	wantStatus(t, r, http.StatusOK)
	pk, _ := out["publicKey"].(map[string]any)
	if pk == nil || pk["challenge"] == "" || pk["rp"] == nil {
		t.Fatalf("begin answered %v, want creation options", out)
	}
	if excl, _ := pk["excludeCredentials"].([]any); len(excl) != 1 {
		t.Errorf("%d excluded credentials, want the user's one key", len(excl))
	}
	r, out = u.postJSON(t, "/account/keys/finish", map[string]any{"name": "", "credential": map[string]any{"id": "x"}})
	if r.StatusCode != http.StatusUnprocessableEntity || out["field"] != "name" {
		t.Errorf("finish without a name: %d %v", r.StatusCode, out)
	}
	r, out = u.postJSON(t, "/account/keys/finish", map[string]any{"name": "Green key", "credential": map[string]any{"id": "x"}})
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(fmt.Sprint(out["error"]), "could not be verified") {
		t.Errorf("finish with a bad credential: %d %v", r.StatusCode, out)
	}
	// The failed attempt used the ceremony up.
	r, out = u.postJSON(t, "/account/keys/finish", map[string]any{"name": "Green key", "credential": map[string]any{"id": "x"}})
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(fmt.Sprint(out["error"]), "expired") {
		t.Errorf("finish again: %d %v", r.StatusCode, out)
	}

	ageSession(t, u.sessionID, 20*time.Minute)
	r, out = u.postJSON(t, "/account/keys/begin", map[string]string{"name": "Green key"})
	if r.StatusCode != http.StatusForbidden || out["redirect"] != "/account/reauth?next=/account/security" {
		t.Errorf("begin from an old session: %d %v", r.StatusCode, out)
	}
}

func TestSecurityEventsListed(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	u := newSecUser(t, b, secOpts{totp: true})
	ec := account.EventContext{IP: "192.0.2.44", UserAgent: secFirefox, Device: "Firefox 128 on Linux"}
	if err := account.RecordEvent(context.Background(), testdb.Store(t).Ent, u.ID, account.EventLoginFailed, ec, nil); err != nil {
		t.Fatal(err)
	}
	d := parse(t, u.c.get("/account/security").body)
	rows := rowsOf(d, "event")
	if len(rows) != 1 {
		t.Fatalf("%d events, want 1", len(rows))
	}
	got := text(rows[0])
	for _, want := range []string{"Failed sign-in attempt", "Firefox 128 on Linux", "192.0.2.44"} {
		if !strings.Contains(got, want) {
			t.Errorf("event row %q lacks %q", got, want)
		}
	}
	if len(all(rows[0], isTag("time"))) != 1 {
		t.Error("event row has no <time>")
	}
}
