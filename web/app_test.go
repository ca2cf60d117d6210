package web_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/recoverydesk/recoverydesk/internal/config"
	"github.com/recoverydesk/recoverydesk/web"
)

func TestHealthz(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	// Health does not depend on the database.
	b.ready.set(errBoom)
	r := newClient(t, b.app).get("/healthz")
	wantStatus(t, r, http.StatusOK)
	if r.body != "ok" {
		t.Errorf("body %q, want ok", r.body)
	}
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)

	wantStatus(t, c.get("/readyz"), http.StatusOK)

	b.ready.set(errBoom)
	r := c.get("/readyz")
	wantStatus(t, r, http.StatusServiceUnavailable)
	if !strings.HasPrefix(r.body, "not ready") {
		t.Errorf("body %q, want a short reason", r.body)
	}
	if strings.Contains(r.body, "hunter2") || strings.Contains(r.body, "db.internal") {
		t.Errorf("503 body leaks the error: %q", r.body)
	}
	if !strings.Contains(b.logs.String(), "hunter2") {
		t.Error("the readiness error is not logged")
	}

	b.ready.set(nil)
	wantStatus(t, c.get("/readyz"), http.StatusOK)
}

func TestHomePageSignedOut(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	r := newClient(t, b.app).get("/")
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	wantLayout(t, d)
	d.testID("home")
	for _, id := range []string{"login-link", "register-link"} {
		d.testID(id)
	}
	if d.hasTestID("signed-in-as") {
		t.Error("signed-out page shows a user")
	}
	var hrefs []string
	for _, a := range d.all(isTag("a")) {
		h, _ := attr(a, "href")
		hrefs = append(hrefs, h)
	}
	for _, want := range []string{"/login", "/register", "/recover", "#main"} {
		if !strings.Contains(strings.Join(hrefs, " "), want) {
			t.Errorf("home page has no link to %s", want)
		}
	}
}

func TestSignedInHeaderShowsDisplayName(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)
	c.setCookie(web.SessionCookie, b.signIn(t, "Ada Lovelace"))

	r := c.get("/")
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	wantLayout(t, d)
	if got := text(d.testID("signed-in-as")); !strings.Contains(got, "Ada Lovelace") {
		t.Errorf("header says %q, want the display name", got)
	}
	if d.hasTestID("login-link") || d.hasTestID("register-link") {
		t.Error("signed-in header still offers Log in / Register")
	}
	logout := d.testID("logout-form")
	if m, _ := attr(logout, "method"); m != "post" {
		t.Errorf("logout form method %q, want post", m)
	}
	if formValue(t, logout, web.CSRFField) == "" {
		t.Error("logout form has no CSRF token")
	}
}

func TestUnknownSessionSignsOut(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)
	c.setCookie(web.SessionCookie, "expired-token")

	r := c.get("/")
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	d.testID("login-link")
	if c.cookie(web.SessionCookie) != "" {
		t.Error("the unknown session cookie was not cleared")
	}
}

func TestSessionLookupFailureIs500(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true, sessions: failingSessions{errors.New("lookup: database is down")}})
	c := newClient(t, b.app)
	c.setCookie(web.SessionCookie, "tok")

	r := c.get("/")
	wantStatus(t, r, http.StatusInternalServerError)
	parse(t, r.body).testID("error-500")
}

func TestNotFoundPageHasLayout(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)
	for _, path := range []string{"/no/such/page", "/dashboard", "/static/nope.css"} {
		r := c.get(path)
		wantStatus(t, r, http.StatusNotFound)
		d := parse(t, r.body)
		wantLayout(t, d)
		d.testID("error-404")
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
	}
}

func TestStaticAssetCacheHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)

	css, err := os.ReadFile("static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(css)
	hash := hex.EncodeToString(sum[:8])

	d := parse(t, c.get("/").body)
	links := d.all(hasAttr("rel", "stylesheet"))
	if len(links) != 1 {
		t.Fatalf("%d stylesheets, want 1", len(links))
	}
	href, _ := attr(links[0], "href")
	if href != "/static/app.css?v="+hash {
		t.Fatalf("stylesheet href %q, want the content hash %s", href, hash)
	}

	r := c.get(href)
	wantStatus(t, r, http.StatusOK)
	if r.body != string(css) {
		t.Error("served CSS differs from static/app.css")
	}
	if got := r.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("Cache-Control %q for the current hash", got)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type %q", ct)
	}

	stale := c.get("/static/app.css?v=0123456789abcdef")
	wantStatus(t, stale, http.StatusOK)
	if got := stale.Header.Get("Cache-Control"); strings.Contains(got, "immutable") || !strings.Contains(got, "max-age=300") {
		t.Errorf("Cache-Control %q for a stale hash, want a short max-age", got)
	}

	etag := r.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	wantStatus(t, c.get("/static/app.css", "If-None-Match", etag), http.StatusNotModified)

	js := c.get("/static/app.js")
	wantStatus(t, js, http.StatusOK)
	if ct := js.Header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("app.js Content-Type %q", ct)
	}
}

func TestSecurityHeadersAndNoInlineScript(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	r := newClient(t, b.app).get("/dev/mail")
	wantStatus(t, r, http.StatusOK)

	csp := r.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	for h, want := range map[string]string{
		"X-Frame-Options":        "DENY",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "same-origin",
		"Cache-Control":          "no-store",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	if r.Header.Get("X-Request-ID") == "" {
		t.Error("no X-Request-ID")
	}

	d := parse(t, r.body)
	for _, s := range d.all(isTag("script")) {
		if src, ok := attr(s, "src"); !ok || !strings.HasPrefix(src, "/static/") {
			t.Errorf("script without a same-origin src: %v", s.Attr)
		}
	}
	if styled := d.all(func(n *html.Node) bool { _, ok := attr(n, "style"); return ok || n.Data == "style" }); len(styled) > 0 {
		t.Errorf("%d inline styles; the CSP forbids them", len(styled))
	}
}

func TestRequestLogOmitsQueryString(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	r := newClient(t, b.app).get("/?token=s3cr3t-link-token")
	wantStatus(t, r, http.StatusOK)

	lines := b.logs.lines("request")
	if len(lines) != 1 {
		t.Fatalf("%d request log lines, want 1:\n%s", len(lines), b.logs.String())
	}
	line := lines[0]
	for _, want := range []string{`"method":"GET"`, `"path":"/"`, `"status":200`, `"duration":`, `"request_id":"` + r.Header.Get("X-Request-ID") + `"`} {
		if !strings.Contains(line, want) {
			t.Errorf("log line lacks %s: %s", want, line)
		}
	}
	if strings.Contains(b.logs.String(), "s3cr3t-link-token") {
		t.Error("the query string reached the log")
	}
}

func TestNewRefusesDevMailOutsideDev(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	cfg := b.cfg
	cfg.Mode = config.ModeServe
	_, err := web.New(web.Deps{
		Config:   cfg,
		Logger:   discardLogger(),
		Sessions: b.sessions,
		Ready:    b.ready.check,
		DevMail:  &web.DevMail{Sink: b.sink, Mailbox: b.mailbox, SupportAddress: testSupport},
	})
	if err == nil || !strings.Contains(err.Error(), "DevMail") {
		t.Fatalf("New with DevMail in serve mode: %v, want an error naming DevMail", err)
	}
}
