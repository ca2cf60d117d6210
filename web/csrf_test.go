package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/web"
)

const csrfMessage = "This form has expired or did not come from this site. Reload the page and try again."

// echoRoute is a state-changing test route behind the CSRF middleware.
func echoRoute(r fiber.Router) {
	r.Post("/test/echo", func(c *fiber.Ctx) error { return c.SendString("accepted") })
}

// tokenFromPage GETs a page with a form, the way a browser would, and
// returns the CSRF token of its first form.
func tokenFromPage(t *testing.T, c *client, path string) string {
	t.Helper()
	r := c.get(path)
	wantStatus(t, r, http.StatusOK)
	forms := parse(t, r.body).all(isTag("form"))
	if len(forms) == 0 {
		t.Fatalf("%s has no form", path)
	}
	tok := formValue(t, forms[0], web.CSRFField)
	if tok == "" {
		t.Fatalf("%s: empty CSRF token", path)
	}
	if c.cookie(web.CSRFCookie) == "" {
		t.Fatalf("%s did not set the %s cookie", path, web.CSRFCookie)
	}
	return tok
}

func wantCSRFRefusal(t *testing.T, r response) {
	t.Helper()
	wantStatus(t, r, http.StatusForbidden)
	d := parse(t, r.body)
	wantLayout(t, d)
	if got := text(d.testID("error-403")); !strings.Contains(got, csrfMessage) {
		t.Errorf("403 page says %q, want the CSRF message", got)
	}
}

func TestCSRFRefusesPostWithoutToken(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{extra: echoRoute})
	c := newClient(t, b.app)
	tokenFromPage(t, c, "/dev/mail") // the cookie alone is not enough
	wantCSRFRefusal(t, c.postForm("/test/echo", url.Values{"x": {"1"}}))
	if n := len(b.logs.lines("csrf check failed")); n != 1 {
		t.Errorf("%d csrf log lines, want 1", n)
	}
}

func TestCSRFAcceptsTokenFromPage(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{extra: echoRoute})
	c := newClient(t, b.app)
	tok := tokenFromPage(t, c, "/dev/mail")

	r := c.postForm("/test/echo", url.Values{web.CSRFField: {tok}})
	wantStatus(t, r, http.StatusOK)
	if r.body != "accepted" {
		t.Fatalf("body %q", r.body)
	}
	// The header works as well as the field, and the same-origin
	// signals of a real browser pass.
	r = c.postForm("/test/echo", nil, web.CSRFHeader, tok, "Sec-Fetch-Site", "same-origin", "Origin", testBase)
	wantStatus(t, r, http.StatusOK)
	r = c.postForm("/test/echo", url.Values{web.CSRFField: {tok}}, "Origin", testBase)
	wantStatus(t, r, http.StatusOK)
}

func TestCSRFRefusesForgedTokens(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{extra: echoRoute})
	c := newClient(t, b.app)
	tok := tokenFromPage(t, c, "/dev/mail")
	value, mac, _ := strings.Cut(tok, ".")

	// A second browser has its own cookie; its token is no good here.
	other := newClient(t, b.app)
	otherTok := tokenFromPage(t, other, "/dev/mail")
	if otherTok == tok {
		t.Fatal("two browsers got the same token")
	}
	otherValue, _, _ := strings.Cut(otherTok, ".")

	cases := map[string]string{
		"other browser's token":   otherTok,
		"bad signature":           value + "." + strings.Repeat("A", len(mac)),
		"no signature":            value,
		"cookie value, other sig": value + "." + strings.SplitN(otherTok, ".", 2)[1],
		"other value, own sig":    otherValue + "." + mac,
		"garbage":                 "not-a-token",
		"signature without value": "." + mac,
	}
	for name, forged := range cases {
		t.Run(name, func(t *testing.T) {
			wantCSRFRefusal(t, c.postForm("/test/echo", url.Values{web.CSRFField: {forged}}))
		})
	}
}

func TestCSRFRefusesWithoutCookie(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{extra: echoRoute})
	c := newClient(t, b.app)
	tok := tokenFromPage(t, c, "/dev/mail")

	fresh := newClient(t, b.app) // same token, no cookie: a forged form
	wantCSRFRefusal(t, fresh.postForm("/test/echo", url.Values{web.CSRFField: {tok}}))
}

func TestCSRFRefusesCrossSiteRequests(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{extra: echoRoute})
	c := newClient(t, b.app)
	tok := tokenFromPage(t, c, "/dev/mail")
	form := url.Values{web.CSRFField: {tok}}

	wantCSRFRefusal(t, c.postForm("/test/echo", form, "Sec-Fetch-Site", "cross-site"))
	wantCSRFRefusal(t, c.postForm("/test/echo", form, "Sec-Fetch-Site", "same-site"))
	wantCSRFRefusal(t, c.postForm("/test/echo", form, "Origin", "https://evil.example"))
	wantCSRFRefusal(t, c.postForm("/test/echo", form, "Origin", "null"))
	// And the token still works without those headers.
	wantStatus(t, c.postForm("/test/echo", form), http.StatusOK)
}

func TestCSRFTokenIsBoundToSession(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{extra: echoRoute})
	tokAda, tokBob := b.signIn(t, "Ada"), b.signIn(t, "Bob")
	c := newClient(t, b.app)

	signedOut := tokenFromPage(t, c, "/dev/mail")
	c.setCookie(web.SessionCookie, tokAda)
	// A token from before sign-in no longer works after it.
	wantCSRFRefusal(t, c.postForm("/test/echo", url.Values{web.CSRFField: {signedOut}}))

	ada := tokenFromPage(t, c, "/dev/mail")
	wantStatus(t, c.postForm("/test/echo", url.Values{web.CSRFField: {ada}}), http.StatusOK)

	// Nor does Ada's token work in another session of the same browser.
	c.setCookie(web.SessionCookie, tokBob)
	wantCSRFRefusal(t, c.postForm("/test/echo", url.Values{web.CSRFField: {ada}}))
}

func TestCSRFForbiddenPageOffersFreshToken(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{extra: echoRoute})
	c := newClient(t, b.app)
	// No cookie yet: the refusal itself issues one, so reloading the form
	// and posting again works.
	wantCSRFRefusal(t, c.postForm("/test/echo", url.Values{web.CSRFField: {"stale"}}))
	if c.cookie(web.CSRFCookie) == "" {
		t.Fatal("the 403 response set no CSRF cookie")
	}
	tok := tokenFromPage(t, c, "/dev/mail")
	wantStatus(t, c.postForm("/test/echo", url.Values{web.CSRFField: {tok}}), http.StatusOK)
}
