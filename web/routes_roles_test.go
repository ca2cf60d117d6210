package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/web"
)

// staffRoute is one method and path of a staff route, with its
// parameters filled in.
type staffRoute struct {
	method, pattern, path string
}

// staffRoutes lists every route the app registers under /desk and
// /admin, so a new route is in the matrix without touching this test.
// HEAD mirrors GET; CONNECT, OPTIONS and TRACE (registered by All) are
// not sent by browsers to these pages.
func staffRoutes(t *testing.T, b *bundle, fill map[string]string) []staffRoute {
	t.Helper()
	var out []staffRoute
	seen := map[string]bool{}
	for _, r := range b.app.GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/desk") && !strings.HasPrefix(r.Path, "/admin") {
			continue
		}
		if !slices.Contains([]string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}, r.Method) {
			continue
		}
		var parts []string
		for _, seg := range strings.Split(r.Path, "/") {
			if strings.HasPrefix(seg, ":") || seg == "*" {
				v, ok := fill[seg]
				if !ok {
					t.Fatalf("route %s %s: no value for %s; add one to the matrix", r.Method, r.Path, seg)
				}
				seg = v
			}
			parts = append(parts, seg)
		}
		key := r.Method + " " + r.Path
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, staffRoute{method: r.Method, pattern: r.Path, path: strings.Join(parts, "/")})
	}
	if len(out) < 20 {
		t.Fatalf("only %d staff routes found: %v", len(out), out)
	}
	return out
}

// send makes the request a browser would: same-origin, with the CSRF
// token of c's session on state-changing methods.
func send(t *testing.T, c *client, r staffRoute, token string) response {
	t.Helper()
	var body io.Reader = http.NoBody
	if r.method != http.MethodGet {
		body = strings.NewReader(url.Values{web.CSRFField: {token}}.Encode())
	}
	req, err := http.NewRequest(r.method, testBase+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.method != http.MethodGet {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return c.do(req)
}

// TestStaffRoutesByRole is the route × role matrix of the issue: every
// /desk and /admin route refuses strangers (to the sign-in page),
// signed-in users without a staff role, and agents on /admin.
func TestStaffRoutesByRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, in := setupAllRoutes(t)
	dc := fileDeskCase(t, b, seedDeskAccount(t, ""), "")
	admin := newStaff(t, b, user.StaffRoleAdmin)
	canned, err := testdb.Store(t).Ent.CannedReply.Create().SetName("matrix " + dc.Reference).SetBody("Hello").SetCreatedByID(admin.ID).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	quarantined := quarantineGarbage(t, in, []byte("not an email at all"))
	ids := map[string]string{"/admin/quarantine": strconv.Itoa(quarantined), "/admin/canned-replies": strconv.Itoa(canned.ID)}
	routes := staffRoutes(t, b, map[string]string{":ref": dc.Reference, "*": "api/jobs", ":id": "set below"})
	for i, r := range routes {
		for prefix, id := range ids {
			if strings.HasPrefix(r.pattern, prefix+"/:id") {
				routes[i].path = strings.Replace(r.path, "set below", id, 1)
			}
		}
		if strings.Contains(routes[i].path, "set below") {
			t.Fatalf("route %s %s: no id to fill in; add one to the matrix", r.method, r.pattern)
		}
	}

	anon := newClient(t, b.app)
	anonToken := tokenFromPage(t, anon, "/recover")
	member := newStaff(t, b, user.StaffRoleNone)
	agent := newStaff(t, b, user.StaffRoleAgent)
	tokens := map[*secUser]string{}
	for _, u := range []*secUser{member, agent, admin} {
		tokens[u] = tokenFromPage(t, u.c, "/account/security")
	}

	for _, r := range routes {
		name := r.method + " " + r.path
		// Strangers are sent to sign in, whatever the method; GETs come
		// back to the page afterwards.
		res := send(t, anon, r, anonToken)
		loc := res.Header.Get("Location")
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
			t.Errorf("anonymous %s: %d to %q, want 303 to /login", name, res.StatusCode, loc)
		} else if r.method == http.MethodGet && !strings.Contains(loc, url.QueryEscape(r.path)) && !strings.Contains(loc, r.path) {
			t.Errorf("anonymous %s: redirect to %q does not come back", name, loc)
		}

		if res := send(t, member.c, r, tokens[member]); res.StatusCode != http.StatusForbidden {
			t.Errorf("user without a staff role %s: status %d, want 403", name, res.StatusCode)
		}

		isAdmin := strings.HasPrefix(r.pattern, "/admin")
		switch res := send(t, agent.c, r, tokens[agent]); {
		case isAdmin && res.StatusCode != http.StatusForbidden:
			t.Errorf("agent %s: status %d, want 403", name, res.StatusCode)
		case !isAdmin && r.method == http.MethodGet && (res.StatusCode == http.StatusForbidden || res.StatusCode == http.StatusUnauthorized):
			t.Errorf("agent %s: status %d, want the page", name, res.StatusCode)
		}

		if isAdmin || r.method == http.MethodGet {
			if res := send(t, admin.c, r, tokens[admin]); res.StatusCode == http.StatusForbidden || res.StatusCode == http.StatusUnauthorized {
				t.Errorf("admin %s: status %d, want not refused", name, res.StatusCode)
			}
		}
	}
}
