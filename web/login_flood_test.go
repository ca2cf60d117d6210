package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent/securityevent"
	"github.com/recoverydesk/recoverydesk/ent/session"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/internal/ratelimit"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/web"
)

// floodSize is how many requests a flood sends at once.
const floodSize = 200

// floodAnswer is what one request of a flood got back.
type floodAnswer struct {
	status     int
	retryAfter string
	err        error
}

// flood sends floodSize requests made by build concurrently, all released
// together, and returns the answers in request order. Errors are kept,
// not reported: goroutines other than the test's may not call t.Fatal.
func flood(t *testing.T, app *fiber.App, build func(i int) (*http.Request, error)) []floodAnswer {
	t.Helper()
	out := make([]floodAnswer, floodSize)
	reqs := make([]*http.Request, floodSize)
	for i := range reqs {
		r, err := build(i)
		if err != nil {
			t.Fatal(err)
		}
		reqs[i] = r
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := app.Test(r, -1)
			if err != nil {
				out[i].err = err
				return
			}
			_ = res.Body.Close()
			out[i] = floodAnswer{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After")}
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// tally checks every answer is one of allowed or a proper 429, never an
// error or a 5xx, and returns how many were not refused.
func tally(t *testing.T, answers []floodAnswer, allowed ...int) (passed int) {
	t.Helper()
	counts := map[int]int{}
	for i, a := range answers {
		switch {
		case a.err != nil:
			t.Errorf("request %d: %v", i, a.err)
			continue
		case a.status == http.StatusTooManyRequests:
			if s, err := strconv.Atoi(a.retryAfter); err != nil || s <= 0 {
				t.Errorf("request %d: 429 with Retry-After %q, want whole seconds > 0", i, a.retryAfter)
			}
		case a.status >= 500:
			t.Errorf("request %d: status %d under a flood", i, a.status)
		default:
			ok := false
			for _, s := range allowed {
				ok = ok || a.status == s
			}
			if !ok {
				t.Errorf("request %d: status %d, want one of %v or 429", i, a.status, allowed)
			}
			passed++
		}
		counts[a.status]++
	}
	t.Logf("answers by status: %v", counts)
	return passed
}

// sameWindow reports whether from and to fall in one window of rule: a
// flood straddling a boundary is judged with the previous window's count
// too, so it may let fewer than Limit through.
func sameWindow(rule ratelimit.Rule, from, to time.Time) bool {
	return from.Truncate(rule.Window).Equal(to.Truncate(rule.Window))
}

// wantChecked checks that exactly the attempts that were not refused got
// through (reached, e.g., "the password check"), and that they were at
// most the rule's limit (exactly that unless the flood straddled a window
// boundary).
func wantChecked(t *testing.T, reached string, checked, passed int, rule ratelimit.Rule, from, to time.Time) {
	t.Helper()
	if checked != passed {
		t.Errorf("%d attempts reached %s, but %d were answered as if they had", checked, reached, passed)
	}
	switch {
	case checked > rule.Limit:
		t.Errorf("%d of %d attempts reached %s; %s allows %d", checked, floodSize, reached, rule.Name, rule.Limit)
	case checked < rule.Limit && sameWindow(rule, from, to):
		t.Errorf("only %d attempts reached %s; %s allows %d in a fresh window", checked, reached, rule.Name, rule.Limit)
	}
}

// passwordChecks counts the sign-in attempts on user that reached the
// password check: a failure is recorded as a login_failed security event
// after the check, a success makes a session.
func passwordChecks(t *testing.T, userIDs ...int) int {
	t.Helper()
	ctx := context.Background()
	db := testdb.Store(t).Ent
	failed := db.SecurityEvent.Query().
		Where(securityevent.UserIDIn(userIDs...), securityevent.Kind(string(account.EventLoginFailed))).CountX(ctx)
	signedIn := db.Session.Query().Where(session.UserIDIn(userIDs...)).CountX(ctx)
	return failed + signedIn
}

// formRequest is a POST of form to path from the client address xff, with
// c's cookies (its CSRF token's cookie).
func formRequest(c *client, path string, form url.Values, xff string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, testBase+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", xff)
	for _, ck := range c.jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	return req, nil
}

// floodIP is a client address no other test uses.
func floodIP(c *client) string { return strings.Replace(c.ip, "10.", "172.", 1) }

// TestLoginFloodOneAddress: 200 concurrent sign-ins to one account from
// one address, right and wrong passwords mixed. Only the per-IP allowance
// reaches the password check; the rest get 429 with Retry-After.
func TestLoginFloodOneAddress(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	m := newLoginMember(t, loginMemberOpts{})
	c := newClient(t, b.app)
	token := loginCSRF(t, c)
	ip := floodIP(c)
	from := time.Now()
	answers := flood(t, b.app, func(i int) (*http.Request, error) {
		pw := "wrong " + strconv.Itoa(i)
		if i%4 == 0 {
			pw = m.password
		}
		return formRequest(c, "/login", url.Values{web.CSRFField: {token}, "username": {m.Username}, "password": {pw}}, ip)
	})
	passed := tally(t, answers, http.StatusUnprocessableEntity, http.StatusSeeOther)
	wantChecked(t, "the password check", passwordChecks(t, m.ID), passed, ratelimit.LoginPerIP, from, time.Now())
}

// TestLoginFloodManyAddresses: 200 concurrent sign-ins to one account,
// each from an address of its own (through the trusted proxy). The
// per-account limit holds whatever the addresses.
func TestLoginFloodManyAddresses(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	m := newLoginMember(t, loginMemberOpts{})
	c := newClient(t, b.app)
	token := loginCSRF(t, c)
	from := time.Now()
	answers := flood(t, b.app, func(i int) (*http.Request, error) {
		pw := "wrong " + strconv.Itoa(i)
		if i%4 == 0 {
			pw = m.password
		}
		n := clientSeq.Add(1)
		xff := fmt.Sprintf("198.%d.%d.%d", n/65536%256, n/256%256, n%256)
		return formRequest(c, "/login", url.Values{web.CSRFField: {token}, "username": {m.Username}, "password": {pw}}, xff)
	})
	passed := tally(t, answers, http.StatusUnprocessableEntity, http.StatusSeeOther)
	wantChecked(t, "the password check", passwordChecks(t, m.ID), passed, ratelimit.LoginPerUser, from, time.Now())
}

// TestLoginFloodSpoofedForwardedFor: one client behind the trusted proxy
// sprays passwords at many accounts, sending an X-Forwarded-For of its own
// invention with every request. A proxy that appends (nginx's
// $proxy_add_x_forwarded_for, most load balancers) forwards
// "<invented>, <client>": only the last entry added by a trusted proxy
// names the client, so the per-IP limit must still count all the
// attempts as the one client's.
func TestLoginFloodSpoofedForwardedFor(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	const accounts = 40
	var ids []int
	var names []string
	for range accounts {
		m := newLoginMember(t, loginMemberOpts{})
		ids, names = append(ids, m.ID), append(names, m.Username)
	}
	c := newClient(t, b.app)
	token := loginCSRF(t, c)
	client := floodIP(c)
	from := time.Now()
	answers := flood(t, b.app, func(i int) (*http.Request, error) {
		invented := fmt.Sprintf("203.0.%d.%d", i/256, i%256)
		return formRequest(c, "/login", url.Values{
			web.CSRFField: {token}, "username": {names[i%accounts]}, "password": {"spray " + strconv.Itoa(i)},
		}, invented+", "+client)
	})
	passed := tally(t, answers, http.StatusUnprocessableEntity)
	wantChecked(t, "the password check", passwordChecks(t, ids...), passed, ratelimit.LoginPerIP, from, time.Now())
}

// TestRecoverFloodOneAddress: 200 concurrent recovery forms from one client
// address, each for another contact address: only the per-IP allowance
// opens cases.
func TestRecoverFloodOneAddress(t *testing.T) {
	t.Parallel()
	recoverFloodPerIP(t, func(_ int, client string) string { return client })
}

// TestRecoverFloodSpoofedForwardedFor: the recovery form's per-IP limit
// must count a client behind the appending proxy as one, whatever
// X-Forwarded-For it invents (see TestLoginFloodSpoofedForwardedFor).
func TestRecoverFloodSpoofedForwardedFor(t *testing.T) {
	t.Parallel()
	recoverFloodPerIP(t, func(i int, client string) string {
		return fmt.Sprintf("203.0.%d.%d, %s", i/256, i%256, client)
	})
}

// recoverFloodPerIP floods /recover from one client, each form for another
// contact address, the i-th request carrying X-Forwarded-For
// forwardedFor(i, client): only the per-IP allowance may open cases.
func recoverFloodPerIP(t *testing.T, forwardedFor func(i int, client string) string) {
	t.Helper()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)
	token := tokenFromPage(t, c, "/recover")
	client := floodIP(c)
	var contacts []string
	forms := make([]url.Values, floodSize)
	for i := range forms {
		forms[i] = recoverForm(token)
		contacts = append(contacts, forms[i].Get("contact_email"))
	}
	from := time.Now()
	answers := flood(t, b.app, func(i int) (*http.Request, error) {
		return formRequest(c, "/recover", forms[i], forwardedFor(i, client))
	})
	passed := tally(t, answers, http.StatusOK)
	opened := testdb.Store(t).Ent.SupportCase.Query().Where(supportcase.RequesterEmailIn(contacts...)).CountX(context.Background())
	wantChecked(t, "case creation", opened, passed, ratelimit.RecoveryPerIP, from, time.Now())
}

// TestRecoverFloodOneContact: 200 concurrent recovery forms for one contact
// address from as many client addresses: the per-address limit holds.
func TestRecoverFloodOneContact(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)
	token := tokenFromPage(t, c, "/recover")
	form := recoverForm(token)
	from := time.Now()
	answers := flood(t, b.app, func(int) (*http.Request, error) {
		n := clientSeq.Add(1)
		return formRequest(c, "/recover", form, fmt.Sprintf("100.%d.%d.%d", 64+n/65536%64, n/256%256, n%256))
	})
	passed := tally(t, answers, http.StatusOK)
	opened := testdb.Store(t).Ent.SupportCase.Query().Where(supportcase.RequesterEmail(form.Get("contact_email"))).CountX(context.Background())
	wantChecked(t, "case creation", opened, passed, ratelimit.RecoveryPerAddress, from, time.Now())
}
