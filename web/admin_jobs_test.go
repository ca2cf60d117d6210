package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"riverqueue.com/riverui"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/web"
)

// setupAllRoutes is setup with every optional page mounted: River's UI
// (built as the serve command builds it) and the quarantine page.
func setupAllRoutes(t *testing.T) (*bundle, *desk.Inbound) {
	t.Helper()
	b, in := quarantineSetup(t)
	ui, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(testdb.Store(t).Jobs, nil),
		Logger:    discardLogger(),
		Prefix:    web.PathJobs,
	})
	if err != nil {
		t.Fatal(err)
	}
	app, err := web.New(web.Deps{
		Config: b.cfg, Logger: discardLogger(), Sessions: b.sessions, Account: b.account,
		Desk: b.intake, Evidence: b.evidence, Triage: b.triage, Ready: b.ready.check, JobsUI: ui,
		Quarantine: &web.Quarantine{Inbound: in, DB: testdb.Store(t).Ent},
	})
	if err != nil {
		t.Fatal(err)
	}
	b.app = app
	return b, in
}

// uiProbeArgs is a job no worker runs, for the UI to list and cancel.
type uiProbeArgs struct{ N int }

func (uiProbeArgs) Kind() string { return "web_test_ui_probe" }

func insertProbe(t *testing.T, n int) int64 {
	t.Helper()
	st := testdb.Store(t)
	res, err := st.Jobs.Insert(context.Background(), uiProbeArgs{N: n}, &river.InsertOpts{Queue: "web_test_probe"})
	if err != nil {
		t.Fatal(err)
	}
	return res.Job.ID
}

func jobState(t *testing.T, id int64) rivertype.JobState {
	t.Helper()
	var s string
	if err := testdb.Store(t).Pool.QueryRow(context.Background(), "SELECT state FROM river_job WHERE id = $1", id).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return rivertype.JobState(s)
}

func TestAdminJobsNeedsAnAdmin(t *testing.T) {
	t.Parallel()
	b, _ := setupAllRoutes(t)
	html := []string{"Accept", "text/html"}

	r := newClient(t, b.app).get(web.PathJobs, html...)
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "/login") {
		t.Errorf("anonymous: redirect to %q, want the sign-in page", loc)
	}
	for _, role := range []user.StaffRole{user.StaffRoleNone, user.StaffRoleAgent} {
		u := newStaff(t, b, role)
		for _, p := range []string{web.PathJobs, web.PathJobs + "/", web.PathJobs + "/api/jobs?state=available"} {
			wantStatus(t, u.c.get(p, html...), http.StatusForbidden)
		}
	}

	admin := newStaff(t, b, user.StaffRoleAdmin)
	r = admin.c.get(web.PathJobs, html...)
	wantStatus(t, r, http.StatusMovedPermanently)
	if loc := r.Header.Get("Location"); loc != web.PathJobs+"/" {
		t.Errorf("%s redirects to %q", web.PathJobs, loc)
	}
	r = admin.c.get(web.PathJobs+"/", html...)
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(r.body, "<title>River</title>") || !strings.Contains(r.body, `"apiUrl":"/admin/jobs/api"`) {
		t.Fatalf("not River's UI page:\n%s", r.body)
	}
	// River's scripts and styles load from under the prefix, and the
	// page's policy lets its run-time styles apply.
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'self' 'unsafe-inline';") || !strings.Contains(csp, "img-src 'self' data:;") || !strings.Contains(csp, "script-src 'self';") {
		t.Errorf("River UI's CSP %q", csp)
	}
	assets := regexp.MustCompile(`(?:src|href)="(/admin/jobs/assets/[^"]+)"`).FindAllStringSubmatch(r.body, -1)
	if len(assets) < 2 {
		t.Fatalf("no assets in River's page:\n%s", r.body)
	}
	for _, a := range assets {
		wantStatus(t, admin.c.get(a[1]), http.StatusOK)
	}
	if csp := admin.c.get("/desk").Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") {
		t.Errorf("the relaxed policy leaked to /desk: %q", csp)
	}

	id := insertProbe(t, 1)
	r = admin.c.get(web.PathJobs+"/api/jobs?state=available&limit=1000", "Accept", "application/json")
	wantStatus(t, r, http.StatusOK)
	var list struct {
		Data []struct {
			ID   json.Number `json:"id"`
			Kind string      `json:"kind"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(r.body), &list); err != nil {
		t.Fatalf("job list is not JSON: %v\n%s", err, r.body)
	}
	found := false
	for _, j := range list.Data {
		found = found || (j.ID.String() == strconv.FormatInt(id, 10) && j.Kind == uiProbeArgs{}.Kind())
	}
	if !found {
		t.Errorf("job %d not in the API's list:\n%.2000s", id, r.body)
	}
}

// River UI's JavaScript posts without our CSRF token; only requests the
// browser marks as same-origin get through.
func TestAdminJobsAPIWritesNeedSameOrigin(t *testing.T) {
	t.Parallel()
	b, _ := setupAllRoutes(t)
	admin := newStaff(t, b, user.StaffRoleAdmin)
	cancel := func(id int64, header ...string) response {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, testBase+web.PathJobs+"/api/jobs/cancel",
			strings.NewReader(`{"ids":["`+strconv.FormatInt(id, 10)+`"]}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		setHeaders(t, req, header)
		return admin.c.do(req)
	}

	id := insertProbe(t, 2)
	for _, h := range [][]string{
		nil,
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site"},
		{"Sec-Fetch-Site", "none"},
		{"Origin", "http://evil.example"},
		{"Origin", "https://desk.test"},
		{"Origin", "null"},
	} {
		r := cancel(id, h...)
		if r.StatusCode != http.StatusForbidden {
			t.Errorf("cancel with %q: status %d, want 403", h, r.StatusCode)
		}
	}
	if s := jobState(t, id); s != rivertype.JobStateAvailable {
		t.Fatalf("refused cancels left the job %s", s)
	}
	// A form-style post to any other admin path still needs the token.
	r := admin.c.postForm("/admin/canned-replies", nil, "Sec-Fetch-Site", "same-origin")
	wantStatus(t, r, http.StatusForbidden)

	wantStatus(t, cancel(id, "Sec-Fetch-Site", "same-origin"), http.StatusOK)
	if s := jobState(t, id); s != rivertype.JobStateCancelled {
		t.Errorf("job %s after a same-origin cancel", s)
	}
	other := insertProbe(t, 3)
	wantStatus(t, cancel(other, "Origin", testBase), http.StatusOK)
	if s := jobState(t, other); s != rivertype.JobStateCancelled {
		t.Errorf("job %s after a cancel from our Origin", s)
	}
}

// TestBrowserAdminJobsUI opens River's UI as an admin in Chromium: it
// renders the job list with no Content-Security-Policy violation, and its
// own same-origin API calls get past the CSRF check.
func TestBrowserAdminJobsUI(t *testing.T) {
	b, _ := setupAllRoutes(t)
	ctx, base := browseApp(t, b.app)
	admin := newStaff(t, b, user.StaffRoleAdmin)
	token, err := b.account.Sessions.Create(context.Background(), nil, admin.ID, account.SessionMeta{UserAgent: "chromium", AuthMethods: []string{"password", "totp"}})
	if err != nil {
		t.Fatal(err)
	}
	id := insertProbe(t, 4)

	httpOnly := true
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{
		Name: web.SessionCookie, Value: token, URL: base + "/", Path: "/", HTTPOnly: &httpOnly, SameSite: network.CookieSameSiteLax,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__csp = []; document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI + " from " + e.sourceFile));`,
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+web.PathJobs+"/jobs?state=available")); err != nil {
		t.Fatal(err)
	}
	kind := uiProbeArgs{}.Kind()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.body.innerText.includes("`+kind+`")`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("River's job list never showed %s: %v\npage: %.1500s", kind, err, body)
	}
	// Zod, bundled in River's UI, probes `new Function("")` to choose a
	// faster validator and falls back when the policy refuses it; that
	// one refusal is expected and 'unsafe-eval' stays off.
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`window.__csp.filter(v => !v.startsWith("script-src eval "))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(violations) > 0 {
		t.Errorf("Content-Security-Policy violations on River's UI: %q", violations)
	}

	// The call River's Cancel button makes, from the page itself.
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("`+web.PathJobs+`/api/jobs/cancel", {
		method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({ids: ["`+strconv.FormatInt(id, 10)+`"]}),
	}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusOK || jobState(t, id) != rivertype.JobStateCancelled {
		t.Errorf("cancel from River's page: status %d, job %s", status, jobState(t, id))
	}
}
