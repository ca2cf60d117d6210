package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/recoverydesk/recoverydesk/web"
)

func TestLogoutRevokesTheSession(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	token := b.signIn(t, "Grace Hopper")
	c := newClient(t, b.app)
	c.setCookie(web.SessionCookie, token)
	csrf := formValue(t, parse(t, c.get("/").body).testID("logout-form"), web.CSRFField)

	r := c.postForm("/logout", url.Values{web.CSRFField: {csrf}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/" {
		t.Fatalf("redirect to %q, want /", loc)
	}
	if c.cookie(web.SessionCookie) != "" {
		t.Error("session cookie not cleared")
	}
	home := parse(t, c.get("/").body)
	home.testID("login-link")
	if got := text(home.testID("flash")); got == "" {
		t.Error("no flash after signing out")
	}

	// The row is revoked: the old cookie, replayed, no longer signs in.
	replay := newClient(t, b.app)
	replay.setCookie(web.SessionCookie, token)
	parse(t, replay.get("/").body).testID("login-link")
}

func TestLogoutWithoutCSRFIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	token := b.signIn(t, "Grace Hopper")
	c := newClient(t, b.app)
	c.setCookie(web.SessionCookie, token)
	wantCSRFRefusal(t, c.postForm("/logout", url.Values{}))
	// Still signed in: a forged cross-site request cannot sign people out.
	parse(t, c.get("/").body).testID("signed-in-as")
}
