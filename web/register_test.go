package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/actiontoken"
	"github.com/recoverydesk/recoverydesk/ent/emailaddress"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/web"
)

// Passwords strong enough for the policy and in no common list.
const (
	signupPassword  = "tangerine-Walrus-cobalt-88"
	signupPassword2 = "marble Oyster quantum 1917"
)

var signupSeq atomic.Int64

// signupName is a username no other test uses.
func signupName(prefix string) string {
	return fmt.Sprintf("%s%d_%d", prefix, time.Now().UnixNano()%1e9, signupSeq.Add(1))
}

// signupUser registers a user through the account layer and verifies
// their address, returning the user row and the address.
func signupUser(t *testing.T, b *bundle) (*ent.User, string) {
	t.Helper()
	ctx := context.Background()
	name := signupName("su")
	email := name + "@example.org"
	u, err := b.account.Accounts.Register(ctx, account.Registration{Username: name, Email: email, Password: signupPassword}, account.Attempt{IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	token := signupMailToken(t, u.ID, account.MailEmailVerification)
	if _, err := b.account.Accounts.VerifyEmail(ctx, token, account.Attempt{IP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	return u, email
}

var tokenInLink = regexp.MustCompile(`[?&]token=([A-Za-z0-9_-]+)`)

// signupMailToken reads the token of the link in the newest mail of
// purpose queued for userID.
func signupMailToken(t *testing.T, userID int, purpose string) string {
	t.Helper()
	m, err := testdb.Store(t).Ent.OutboundMail.Query().
		Where(outboundmail.UserID(userID), outboundmail.Purpose(purpose)).
		Order(ent.Desc(outboundmail.FieldID)).
		First(context.Background())
	if err != nil {
		t.Fatalf("no %s mail for user %d: %v", purpose, userID, err)
	}
	found := tokenInLink.FindStringSubmatch(m.BodyText)
	if found == nil {
		t.Fatalf("no token= link in the %s mail:\n%s", purpose, m.BodyText)
	}
	return found[1]
}

// signupExpireTokens moves the expiry of userID's tokens of purpose into
// the past.
func signupExpireTokens(t *testing.T, userID int, purpose account.TokenPurpose) {
	t.Helper()
	n, err := testdb.Store(t).Ent.ActionToken.Update().
		Where(actiontoken.UserID(userID), actiontoken.PurposeEQ(actiontoken.Purpose(purpose))).
		SetExpiresAt(time.Now().Add(-time.Minute)).
		Save(context.Background())
	if err != nil || n == 0 {
		t.Fatalf("expire %s tokens of user %d: %d rows, %v", purpose, userID, n, err)
	}
}

func signupUserByName(t *testing.T, name string) *ent.User {
	t.Helper()
	u, err := testdb.Store(t).Ent.User.Query().Where(user.Username(name)).Only(context.Background())
	if err != nil {
		t.Fatalf("user %q: %v", name, err)
	}
	return u
}

func signupVerified(t *testing.T, userID int) bool {
	t.Helper()
	addr, err := testdb.Store(t).Ent.EmailAddress.Query().Where(emailaddress.UserID(userID)).Only(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return addr.VerifiedAt != nil
}

func wantLocation(t *testing.T, r response, want string) {
	t.Helper()
	wantStatus(t, r, http.StatusSeeOther)
	if got := r.Header.Get("Location"); got != want {
		t.Fatalf("redirect to %q, want %q", got, want)
	}
}

// wantLinkProblem checks the page of an unusable emailed link.
func wantLinkProblem(t *testing.T, r response, status int, kind, says string) doc {
	t.Helper()
	wantStatus(t, r, status)
	d := parse(t, r.body)
	if got := text(d.testID("link-problem-" + kind)); !strings.Contains(got, says) {
		t.Errorf("link page says %q, want %q in it", got, says)
	}
	return d
}

func TestRegisterVerifyEmailWalk(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)
	csrf := tokenFromPage(t, c, "/register")
	name := signupName("walk")
	email := name + "@example.org"

	r := c.postForm("/register", url.Values{web.CSRFField: {csrf}, "username": {name}, "email": {email},
		"password": {signupPassword}, "password_confirm": {signupPassword}})
	wantLocation(t, r, "/")
	flash := text(parse(t, c.get("/").body).testID("flash"))
	if !strings.Contains(flash, email) || !strings.Contains(flash, "6 hours") {
		t.Errorf("flash %q does not name the address and the link's lifetime", flash)
	}
	u := signupUserByName(t, name)
	link := signupMailToken(t, u.ID, account.MailEmailVerification)

	// Opening the link only shows a button: a scanner fetching it
	// verifies nothing.
	r = c.get("/verify-email?token=" + link)
	wantStatus(t, r, http.StatusOK)
	form := parse(t, r.body).testID("verify-email-form")
	if got := text(form); got != "Verify my address" {
		t.Errorf("button says %q", got)
	}
	if signupVerified(t, u.ID) {
		t.Fatal("GET of the link verified the address")
	}

	csrf = formValue(t, form, web.CSRFField)
	r = c.postForm("/verify-email", url.Values{web.CSRFField: {csrf}, "token": {formValue(t, form, "token")}})
	wantLocation(t, r, "/login")
	if !signupVerified(t, u.ID) {
		t.Fatal("address not verified after the POST")
	}

	// The same link again: the page says at once that it was used, with
	// no button; the button of a page opened earlier says so too.
	d := wantLinkProblem(t, c.get("/verify-email?token="+link), http.StatusGone, "used", "already been used")
	if d.hasTestID("verify-email-form") {
		t.Error("the page of a used link shows the button")
	}
	r = c.postForm("/verify-email", url.Values{web.CSRFField: {csrf}, "token": {link}})
	wantLinkProblem(t, r, http.StatusGone, "used", "already been used")
}

func TestVerifyEmailForgedAndExpiredLinks(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)
	csrf := tokenFromPage(t, c, "/register")

	// Opening a forged link says at once that it is not valid.
	forged := strings.Repeat("A", 43)
	d := wantLinkProblem(t, c.get("/verify-email?token="+forged), http.StatusBadRequest, "invalid", "not valid")
	if !strings.Contains(text(d.testID("new-link-help")), testSupport) {
		t.Error("the invalid-link page does not say how to get a new link")
	}
	if d.hasTestID("verify-email-form") {
		t.Error("the page of a forged link shows the button")
	}
	wantLinkProblem(t, c.postForm("/verify-email", url.Values{web.CSRFField: {csrf}, "token": {forged}}),
		http.StatusBadRequest, "invalid", "not valid")
	wantLinkProblem(t, c.get("/verify-email"), http.StatusBadRequest, "invalid", "not valid")
	wantLinkProblem(t, c.get("/verify-email?token=x"), http.StatusBadRequest, "invalid", "not valid")

	name := signupName("exp")
	u, err := b.account.Accounts.Register(context.Background(), account.Registration{Username: name, Email: name + "@example.org", Password: signupPassword}, account.Attempt{})
	if err != nil {
		t.Fatal(err)
	}
	link := signupMailToken(t, u.ID, account.MailEmailVerification)
	signupExpireTokens(t, u.ID, account.TokenEmailVerification)
	d = wantLinkProblem(t, c.get("/verify-email?token="+link), http.StatusGone, "expired", "expired")
	if !strings.Contains(text(d.testID("new-link-help")), testSupport) {
		t.Error("the expired-link page does not say how to get a new link")
	}
	wantLinkProblem(t, c.postForm("/verify-email", url.Values{web.CSRFField: {csrf}, "token": {link}}),
		http.StatusGone, "expired", "expired")
	if signupVerified(t, u.ID) {
		t.Error("an expired link verified the address")
	}
}

func TestRegisterFieldErrorsKeepValues(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	taken, _ := signupUser(t, b)

	cases := []struct {
		name                       string
		username, email, pw, again string
		field, says                string
	}{
		{"taken username", taken.Username, "new@example.org", signupPassword, signupPassword, "username", "taken"},
		{"bad email", "", "not-an-address", signupPassword, signupPassword, "email", "like name@example.org"},
		{"common password", "", "", "12345678", "12345678", "password", "commonly used"},
		{"weak password", "", "", "mary1985smith", "mary1985smith", "password", "too easy to guess"},
		{"short password", "", "", "abc", "abc", "password", "at least 8 characters"},
		{"mismatch", "", "", signupPassword, signupPassword + "x", "password_confirm", "different"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, b.app)
			csrf := tokenFromPage(t, c, "/register")
			username, email := tc.username, tc.email
			if username == "" {
				username = signupName("fe")
			}
			if email == "" {
				email = signupName("fe") + "@example.org"
			}
			r := c.postForm("/register", url.Values{web.CSRFField: {csrf}, "username": {username}, "email": {email},
				"password": {tc.pw}, "password_confirm": {tc.again}})
			wantStatus(t, r, http.StatusOK)
			d := parse(t, r.body)
			got := text(d.testID("error-" + tc.field))
			if got == "" || !strings.Contains(got, tc.says) {
				t.Errorf("error next to %s: %q, want %q in it", tc.field, got, tc.says)
			}
			if !strings.Contains(text(d.testID("error-summary")), strings.TrimPrefix(got, "Error: ")) {
				t.Errorf("the error summary lacks %q", got)
			}
			form := d.testID("register-form")
			if v := formValue(t, form, "username"); v != username {
				t.Errorf("username %q not kept: %q", username, v)
			}
			if v := formValue(t, form, "email"); v != email {
				t.Errorf("email %q not kept: %q", email, v)
			}
			if formValue(t, form, "password") != "" || formValue(t, form, "password_confirm") != "" {
				t.Error("a password was sent back in the page")
			}
			if tc.field != "username" {
				if n, _ := testdb.Store(t).Ent.User.Query().Where(user.Username(username)).Count(context.Background()); n != 0 {
					t.Errorf("refused registration created user %q", username)
				}
			}
		})
	}
}

func TestRegisterFieldsHaveAutocompleteAndHints(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	d := parse(t, newClient(t, b.app).get("/register").body)
	wantLayout(t, d)
	for name, want := range map[string]string{"username": "username", "email": "email", "password": "new-password", "password_confirm": "new-password"} {
		in := all(d.testID("field-"+name), isTag("input"))
		if len(in) != 1 || mustAttr(t, in[0], "autocomplete") != want {
			t.Errorf("field %s: want one input with autocomplete=%q", name, want)
		}
	}
	if hint := text(d.testID("field-password")); !strings.Contains(hint, "At least 8 characters") || !strings.Contains(hint, "ommon password") {
		t.Errorf("password hint %q does not state the rules", hint)
	}
}

func TestRegisterWithoutCSRFIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)
	tokenFromPage(t, c, "/register")
	name := signupName("csrf")
	wantCSRFRefusal(t, c.postForm("/register", url.Values{"username": {name}, "email": {name + "@example.org"},
		"password": {signupPassword}, "password_confirm": {signupPassword}}))
	if n, _ := testdb.Store(t).Ent.User.Query().Where(user.Username(name)).Count(context.Background()); n != 0 {
		t.Error("a registration without CSRF token created the user")
	}
}

func TestRegisterSignedInGoesHome(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)
	c.setCookie(web.SessionCookie, b.signIn(t, "Ada"))
	wantLocation(t, c.get("/register"), "/")
}
