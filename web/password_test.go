package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/web"
)

// signupResetRequest posts the reset form for who from a fresh page.
func signupResetRequest(t *testing.T, c *client, who string) response {
	t.Helper()
	csrf := tokenFromPage(t, c, "/password-reset")
	return c.postForm("/password-reset", url.Values{web.CSRFField: {csrf}, "who": {who}})
}

func signupMailCount(t *testing.T, to, purpose string) int {
	t.Helper()
	n, err := testdb.Store(t).Ent.OutboundMail.Query().
		Where(outboundmail.ToAddress(to), outboundmail.Purpose(purpose)).
		Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPasswordResetRequestAnswersAlikeForUnknownAccounts(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	u, email := signupUser(t, b)
	unknown := signupName("nobody") + "@example.org"

	known := signupResetRequest(t, newClient(t, b.app), u.Username)
	wantLocation(t, known, "/password-reset?sent=1")
	if n := signupMailCount(t, email, account.MailPasswordReset); n != 1 {
		t.Errorf("%d reset mails to the known user, want 1", n)
	}
	other := signupResetRequest(t, newClient(t, b.app), unknown)
	wantLocation(t, other, "/password-reset?sent=1")
	if n := signupMailCount(t, unknown, account.MailPasswordReset); n != 0 {
		t.Errorf("%d reset mails to an unknown address, want 0", n)
	}

	page := parse(t, newClient(t, b.app).get("/password-reset?sent=1").body)
	if got := text(page.testID("password-reset-sent")); !strings.Contains(got, "If an account matches") || !strings.Contains(got, "1 hour") {
		t.Errorf("answer page says %q", got)
	}
	if page.hasTestID("password-reset-form") {
		t.Error("the answer page shows the form again")
	}
}

func TestPasswordResetRequestNeedsAUsername(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	r := signupResetRequest(t, newClient(t, b.app), "  ")
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	if got := text(d.testID("error-who")); !strings.Contains(got, "username or email") {
		t.Errorf("error next to the field: %q", got)
	}
	d.testID("error-summary")
}

func TestPasswordResetRequestIsRateLimited(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)
	who := signupName("limit") + "@example.org"
	for range 5 {
		wantLocation(t, signupResetRequest(t, c, who), "/password-reset?sent=1")
	}
	r := signupResetRequest(t, c, who)
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	parse(t, r.body).testID("error-429")
}

func TestPasswordResetLinkSetsNewPassword(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	ctx := context.Background()
	u, _ := signupUser(t, b)
	old, err := b.account.Sessions.Create(ctx, nil, u.ID, account.SessionMeta{AuthMethods: []string{"password"}})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, b.app)
	wantLocation(t, signupResetRequest(t, c, u.Username), "/password-reset?sent=1")
	link := signupMailToken(t, u.ID, account.MailPasswordReset)

	r := c.get("/password-reset?token=" + link)
	wantStatus(t, r, http.StatusOK)
	form := parse(t, r.body).testID("password-reset-new-form")
	csrf := formValue(t, form, web.CSRFField)
	if formValue(t, form, "token") != link {
		t.Fatal("the form does not carry the link's token")
	}
	post := func(pw, again string) response {
		return c.postForm("/password-reset/new", url.Values{web.CSRFField: {csrf}, "token": {link}, "password": {pw}, "password_confirm": {again}})
	}

	// Refusals keep the link usable and say what is wrong where.
	r = post(signupPassword2, signupPassword2+"!")
	wantStatus(t, r, http.StatusOK)
	if got := text(parse(t, r.body).testID("error-password_confirm")); !strings.Contains(got, "different") {
		t.Errorf("mismatch message %q", got)
	}
	r = post("12345678", "12345678")
	wantStatus(t, r, http.StatusOK)
	if got := text(parse(t, r.body).testID("error-password")); !strings.Contains(got, "commonly used") {
		t.Errorf("common-password message %q", got)
	}

	wantLocation(t, post(signupPassword2, signupPassword2), "/login")
	at := account.Attempt{IP: c.ip}
	if _, err := b.account.Login.WithPassword(ctx, u.Username, signupPassword, at); !errors.Is(err, account.ErrBadCredentials) {
		t.Errorf("old password: %v, want ErrBadCredentials", err)
	}
	if _, err := b.account.Login.WithPassword(ctx, u.Username, signupPassword2, at); err != nil {
		t.Errorf("new password refused: %v", err)
	}
	if _, err := b.account.Sessions.Lookup(ctx, old); !errors.Is(err, account.ErrSessionNotFound) {
		t.Errorf("session from before the reset: %v, want ErrSessionNotFound", err)
	}

	// The link is spent.
	wantLinkProblem(t, c.get("/password-reset?token="+link), http.StatusGone, "used", "already been used")
	wantLinkProblem(t, post(signupPassword, signupPassword), http.StatusGone, "used", "already been used")
	if _, err := b.account.Login.WithPassword(ctx, u.Username, signupPassword2, at); err != nil {
		t.Errorf("reused link changed the password: %v", err)
	}
}

func TestPasswordResetForgedAndExpiredLinks(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)
	d := wantLinkProblem(t, c.get("/password-reset?token="+strings.Repeat("x", 43)), http.StatusBadRequest, "invalid", "not valid")
	if mustAttr(t, d.testID("request-new-link"), "href") != "/password-reset" {
		t.Error("no link to request a new one")
	}

	u, _ := signupUser(t, b)
	wantLocation(t, signupResetRequest(t, c, u.Username), "/password-reset?sent=1")
	link := signupMailToken(t, u.ID, account.MailPasswordReset)
	signupExpireTokens(t, u.ID, account.TokenPasswordReset)
	wantLinkProblem(t, c.get("/password-reset?token="+link), http.StatusGone, "expired", "expired")
	csrf := tokenFromPage(t, c, "/password-reset")
	r := c.postForm("/password-reset/new", url.Values{web.CSRFField: {csrf}, "token": {link}, "password": {signupPassword2}, "password_confirm": {signupPassword2}})
	wantLinkProblem(t, r, http.StatusGone, "expired", "expired")
	// A dead link is reported even when the two passwords differ.
	r = c.postForm("/password-reset/new", url.Values{web.CSRFField: {csrf}, "token": {link}, "password": {signupPassword2}, "password_confirm": {"x"}})
	wantLinkProblem(t, r, http.StatusGone, "expired", "expired")
}

// signupWith2FA gives userID a confirmed TOTP credential, which the
// account pages require.
func signupWith2FA(t *testing.T, userID int) {
	t.Helper()
	err := testdb.Store(t).Ent.TOTPCredential.Create().
		SetUserID(userID).
		SetSecret([]byte("12345678901234567890")).
		SetConfirmedAt(time.Now()).
		Exec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
}

func TestPasswordChangeNeedsRecentAuthentication(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	u, _ := signupUser(t, b)
	signupWith2FA(t, u.ID)
	// Signed in 20 minutes ago: past the re-authentication window.
	past := account.NewSessions(testdb.Store(t).Ent, account.DefaultSessionPolicy, func() time.Time { return time.Now().Add(-20 * time.Minute) })
	token, err := past.Create(context.Background(), nil, u.ID, account.SessionMeta{AuthMethods: []string{"password", "totp"}})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, b.app)
	c.setCookie(web.SessionCookie, token)
	wantLocation(t, c.get("/account/password"), "/account/reauth?next=/account/password")

	csrf := formValue(t, parse(t, c.get("/").body).testID("logout-form"), web.CSRFField)
	r := c.postForm("/account/password", url.Values{web.CSRFField: {csrf}, "password": {signupPassword2}, "password_confirm": {signupPassword2}})
	wantLocation(t, r, "/account/reauth?next=/account/password")
	if _, err := b.account.Login.WithPassword(context.Background(), u.Username, signupPassword, account.Attempt{IP: c.ip}); err != nil {
		t.Errorf("the password changed without re-authentication: %v", err)
	}
}

func TestPasswordChangeRotatesTheSession(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	ctx := context.Background()
	u, _ := signupUser(t, b)
	signupWith2FA(t, u.ID)
	old, err := b.account.Sessions.Create(ctx, nil, u.ID, account.SessionMeta{AuthMethods: []string{"password", "totp"}})
	if err != nil {
		t.Fatal(err)
	}
	elsewhere, err := b.account.Sessions.Create(ctx, nil, u.ID, account.SessionMeta{AuthMethods: []string{"password", "totp"}})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, b.app)
	c.setCookie(web.SessionCookie, old)

	r := c.get("/account/password")
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	wantLayout(t, d)
	form := d.testID("password-change-form")
	csrf := formValue(t, form, web.CSRFField)
	post := func(pw, again string) response {
		return c.postForm("/account/password", url.Values{web.CSRFField: {csrf}, "password": {pw}, "password_confirm": {again}})
	}

	r = post(signupPassword2, "")
	wantStatus(t, r, http.StatusOK)
	if !parse(t, r.body).hasTestID("error-password_confirm") {
		t.Error("no error next to the second field")
	}
	r = post(u.Username+"-secret", u.Username+"-secret")
	wantStatus(t, r, http.StatusOK)
	if got := text(parse(t, r.body).testID("error-password")); !strings.Contains(got, "username") {
		t.Errorf("personal-password message %q", got)
	}

	r = post(signupPassword2, signupPassword2)
	wantLocation(t, r, "/account/security")
	var set *http.Cookie
	for _, ck := range r.Cookies() {
		if ck.Name == web.SessionCookie {
			set = ck
		}
	}
	if set == nil || set.Value == "" || set.Value == old {
		t.Fatalf("no new session cookie: %+v", set)
	}
	if !set.HttpOnly || set.SameSite != http.SameSiteLaxMode || set.Path != "/" || set.Secure {
		t.Errorf("session cookie attributes: %+v", set)
	}

	// The old cookie, and the session elsewhere, no longer authenticate;
	// the new one does.
	for _, tok := range []string{old, elsewhere} {
		if _, err := b.account.Sessions.Lookup(ctx, tok); !errors.Is(err, account.ErrSessionNotFound) {
			t.Errorf("old session: %v, want ErrSessionNotFound", err)
		}
	}
	replay := newClient(t, b.app)
	replay.setCookie(web.SessionCookie, old)
	parse(t, replay.get("/").body).testID("login-link")
	if s, err := b.account.Sessions.Lookup(ctx, set.Value); err != nil || s.UserID != u.ID {
		t.Fatalf("new session: %v", err)
	}
	home := parse(t, c.get("/account/password").body)
	home.testID("password-change-form")
	if _, err := b.account.Login.WithPassword(ctx, u.Username, signupPassword2, account.Attempt{IP: c.ip}); err != nil {
		t.Errorf("new password refused: %v", err)
	}
}
