package web_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent/apitoken"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/web"
)

func countAPITokens(t *testing.T, userID int) int {
	t.Helper()
	n, err := testdb.Store(t).Ent.APIToken.Query().Where(apitoken.UserID(userID)).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// reauthenticate confirms u's password on the re-authentication form,
// returning to the token page.
func reauthenticate(t *testing.T, u *secUser) {
	t.Helper()
	token := tokenFromPage(t, u.c, "/account/reauth?next=/account/tokens")
	r := u.c.postForm("/account/reauth", url.Values{web.CSRFField: {token}, "next": {"/account/tokens"}, "password": {u.password}})
	wantSeeOther(t, r, "/account/tokens")
}

func TestAPITokenPageNeedsSignInAnd2FA(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	r := newClient(t, b.app).get("/account/tokens")
	wantStatus(t, r, http.StatusSeeOther)
	if loc, err := url.Parse(r.Header.Get("Location")); err != nil || loc.Path != "/login" || loc.Query().Get("next") != "/account/tokens" {
		t.Errorf("signed out: redirect to %q, want /login?next=/account/tokens", r.Header.Get("Location"))
	}
	u := newSecUser(t, b, secOpts{})
	wantSeeOther(t, u.c.get("/account/tokens"), "/account/2fa/totp")
	wantSeeOther(t, u.post(t, "/account/tokens", url.Values{"name": {"ci"}, "expires": {"30"}}), "/account/2fa/totp")
	if n := countAPITokens(t, u.ID); n != 0 {
		t.Errorf("%d tokens created without 2FA", n)
	}
	// The security page links to the token page.
	d := parse(t, u.c.get("/account/security").body)
	found := false
	for _, a := range d.all(isTag("a")) {
		if href, _ := attr(a, "href"); href == "/account/tokens" {
			found = true
		}
	}
	if !found {
		t.Error("the security page does not link to /account/tokens")
	}
}

func TestAPITokenCreateNeedsReauthAndShowsTheTokenOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, setupOpts{noDevMail: true})
	db := testdb.Store(t).Ent
	u := newSecUser(t, b, secOpts{totp: true})
	proj := seedProject(t, u.User, nil, nil)
	ageSession(t, u.sessionID, 20*time.Minute)

	d := parse(t, u.c.get("/account/tokens").body)
	wantLayout(t, d)
	if !d.hasTestID("api-token-reauth") || d.hasTestID("api-token-form") {
		t.Error("a stale session is offered the form rather than the password confirmation")
	}
	if !d.hasTestID("api-tokens-empty") {
		t.Error("no empty-list message")
	}
	form := url.Values{"name": {"Release CI"}, "project": {proj.project.Name}, "expires": {"30"}}
	r := u.post(t, "/account/tokens", form)
	wantSeeOther(t, r, "/account/reauth?next=/account/tokens")
	if msg := flashAfter(t, u.c, r); !strings.Contains(msg, "Confirm your password") {
		t.Errorf("flash %q", msg)
	}
	if n := countAPITokens(t, u.ID); n != 0 {
		t.Fatalf("%d tokens created without re-authentication", n)
	}

	reauthenticate(t, u)
	d = parse(t, u.c.get("/account/tokens").body)
	if !d.hasTestID("api-token-form") {
		t.Fatal("no create form after re-authentication")
	}
	var scopes []string
	for _, o := range all(d.testID("field-project"), isTag("option")) {
		scopes = append(scopes, mustAttr(t, o, "value"))
	}
	if len(scopes) != 2 || scopes[0] != "" || scopes[1] != proj.project.Name {
		t.Errorf("scope choices %q, want the whole account and the user's project", scopes)
	}

	before := time.Now()
	r = u.post(t, "/account/tokens", form)
	wantStatus(t, r, http.StatusOK)
	d = parse(t, r.body)
	secret := text(d.testID("api-token-secret"))
	if !account.LooksLikeAPIToken(secret) {
		t.Fatalf("shown token %q does not look like a token", secret)
	}
	if got := text(d.testID("api-token-created")); !strings.Contains(got, "will not be shown again") || !strings.Contains(got, proj.project.Name) {
		t.Errorf("created section %q lacks the warning or the scope", got)
	}
	if got := text(d.testID("api-token-twine")); got != "twine upload --repository-url "+testBase+web.PathUpload+" dist/*" {
		t.Errorf("upload command %q", got)
	}
	for _, c := range r.Header.Values("Set-Cookie") {
		if strings.Contains(c, secret) {
			t.Errorf("the token is in a cookie: %s", c)
		}
	}
	row, err := db.APIToken.Query().Where(apitoken.UserID(u.ID)).WithProject().Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(row.TokenHash, account.HashAPIToken(secret)) || row.Name != "Release CI" || row.Edges.Project == nil || row.Edges.Project.ID != proj.project.ID {
		t.Errorf("stored token %+v does not match the form", row)
	}
	if row.ExpiresAt == nil || row.ExpiresAt.Before(before.Add(30*24*time.Hour-time.Minute)) || row.ExpiresAt.After(time.Now().Add(30*24*time.Hour)) {
		t.Errorf("expires %v, want in 30 days", row.ExpiresAt)
	}
	// The list under it shows the prefix, and the form is empty again.
	if got := text(rowWithID(t, d, "api-token", row.ID)); !strings.Contains(got, row.Prefix) {
		t.Errorf("list row %q lacks the prefix", got)
	}
	if v := formValue(t, d.testID("api-token-form"), "name"); v != "" {
		t.Errorf("name field keeps %q after creation", v)
	}
	if n, _ := db.OutboundMail.Query().Where(outboundmail.UserID(u.ID), outboundmail.Purpose(account.MailAPITokenCreated)).Count(ctx); n != 1 {
		t.Errorf("%d creation mails, want 1", n)
	}

	// Never again: the page lists the prefix only.
	used := time.Now().Truncate(time.Second)
	if _, err := account.AuthenticateAPIToken(ctx, db, secret, used); err != nil {
		t.Fatal(err)
	}
	r = u.c.get("/account/tokens")
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(r.body, secret) || strings.Contains(r.body, secret[len(row.Prefix):]) {
		t.Fatal("the token is shown a second time")
	}
	d = parse(t, r.body)
	if d.hasTestID("api-token-created") {
		t.Error("the created section is shown again")
	}
	listed := rowWithID(t, d, "api-token", row.ID)
	if listed == nil {
		t.Fatal("the token is not listed")
	}
	got := text(listed)
	for _, want := range []string{"Release CI", row.Prefix, proj.project.Name, used.UTC().Format("2 Jan 2006, 15:04 UTC"), "Active"} {
		if !strings.Contains(got, want) {
			t.Errorf("list row %q lacks %q", got, want)
		}
	}
}

func TestAPITokenCreateFormErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	u := newSecUser(t, b, secOpts{totp: true})
	other := newSecUser(t, b, secOpts{totp: true})
	theirs := seedProject(t, other.User, nil, nil)

	for _, tc := range []struct {
		form  url.Values
		field string
		says  string
	}{
		{url.Values{"name": {"  "}, "expires": {"90"}}, "name", "Give the token a name"},
		{url.Values{"name": {strings.Repeat("n", 101)}, "expires": {"90"}}, "name", "at most 100 characters"},
		{url.Values{"name": {"ci"}, "expires": {"7"}}, "expires", "Choose when the token expires"},
		{url.Values{"name": {"ci"}, "project": {theirs.project.Name}, "expires": {"never"}}, "project", "not an owner or maintainer"},
	} {
		r := u.post(t, "/account/tokens", tc.form)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		d := parse(t, r.body)
		if got := text(d.testID("error-" + tc.field)); !strings.Contains(got, tc.says) {
			t.Errorf("%v: %s error %q, want %q", tc.form, tc.field, got, tc.says)
		}
		if !d.hasTestID("error-summary") {
			t.Errorf("%v: no error summary", tc.form)
		}
		if got := formValue(t, d.testID("api-token-form"), "name"); got != tc.form.Get("name") {
			t.Errorf("%v: the name typed came back as %q", tc.form, got)
		}
		if d.hasTestID("api-token-secret") {
			t.Errorf("%v: a token is shown", tc.form)
		}
	}
	if n := countAPITokens(t, u.ID); n != 0 {
		t.Errorf("%d tokens created from refused forms", n)
	}
}

func TestAPITokenRevokeFromThePage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, setupOpts{noDevMail: true})
	db := testdb.Store(t).Ent
	u := newSecUser(t, b, secOpts{totp: true})
	other := newSecUser(t, b, secOpts{totp: true})
	mine, err := b.account.CreateAPIToken(ctx, u.ID, account.NewAPIToken{Name: "laptop"}, account.Attempt{})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := b.account.CreateAPIToken(ctx, other.ID, account.NewAPIToken{Name: "theirs"}, account.Attempt{})
	if err != nil {
		t.Fatal(err)
	}
	revokePath := func(id int) string { return "/account/tokens/" + strconv.Itoa(id) + "/revoke" }

	// Another user's token, and one that does not exist, are not found.
	for _, id := range []int{theirs.ID, theirs.ID + 1000000} {
		wantStatus(t, u.post(t, revokePath(id), nil), http.StatusNotFound)
	}
	if _, err := account.AuthenticateAPIToken(ctx, db, theirs.Token, time.Now()); err != nil {
		t.Errorf("the other user's token after a foreign revocation: %v", err)
	}

	// Revoking needs a recent authentication too.
	ageSession(t, u.sessionID, 20*time.Minute)
	wantSeeOther(t, u.post(t, revokePath(mine.ID), nil), "/account/reauth?next=/account/tokens")
	if _, err := account.AuthenticateAPIToken(ctx, db, mine.Token, time.Now()); err != nil {
		t.Fatalf("revoked without re-authentication: %v", err)
	}
	reauthenticate(t, u)

	d := parse(t, u.c.get("/account/tokens").body)
	revokeForm := all(rowWithID(t, d, "api-token", mine.ID), hasAttr("data-testid", "api-token-revoke-form"))
	if len(revokeForm) != 1 || mustAttr(t, revokeForm[0], "action") != revokePath(mine.ID) {
		t.Fatal("no revoke form on the token's row")
	}
	r := u.post(t, revokePath(mine.ID), nil)
	wantSeeOther(t, r, "/account/tokens")
	if msg := flashAfter(t, u.c, r); !strings.Contains(msg, "revoked") {
		t.Errorf("flash %q", msg)
	}
	if _, err := account.AuthenticateAPIToken(ctx, db, mine.Token, time.Now()); !errors.Is(err, account.ErrAPITokenRevoked) {
		t.Errorf("after revocation: %v, want ErrAPITokenRevoked", err)
	}
	d = parse(t, u.c.get("/account/tokens").body)
	listed := rowWithID(t, d, "api-token", mine.ID)
	if got := text(listed); !strings.Contains(got, "Revoked") || len(all(listed, isTag("form"))) != 0 {
		t.Errorf("revoked row %q still offers revocation or does not say revoked", got)
	}
	r = u.post(t, revokePath(mine.ID), nil)
	wantSeeOther(t, r, "/account/tokens")
	if msg := flashAfter(t, u.c, r); !strings.Contains(msg, "already revoked") {
		t.Errorf("second revocation flash %q", msg)
	}
	if n, _ := db.OutboundMail.Query().Where(outboundmail.UserID(u.ID), outboundmail.Purpose(account.MailAPITokenRevoked)).Count(ctx); n != 1 {
		t.Errorf("%d revocation mails, want 1", n)
	}
	if !strings.Contains(text(parse(t, u.c.get("/account/security").body).testID("events")), account.EventAPITokenRevoked.Describe()) {
		t.Error("the security page lists no revocation event")
	}
}

func TestAPITokenFormsNeedCSRF(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, setupOpts{noDevMail: true})
	u := newSecUser(t, b, secOpts{totp: true})
	mine, err := b.account.CreateAPIToken(ctx, u.ID, account.NewAPIToken{Name: "kept"}, account.Attempt{})
	if err != nil {
		t.Fatal(err)
	}
	tokenFromPage(t, u.c, "/account/tokens") // the cookie alone is not enough
	wantCSRFRefusal(t, u.c.postForm("/account/tokens", url.Values{"name": {"forged"}, "expires": {"never"}}))
	wantCSRFRefusal(t, u.c.postForm("/account/tokens/"+strconv.Itoa(mine.ID)+"/revoke", url.Values{}))
	if n := countAPITokens(t, u.ID); n != 1 {
		t.Errorf("%d tokens, want only the first", n)
	}
	if _, err := account.AuthenticateAPIToken(ctx, testdb.Store(t).Ent, mine.Token, time.Now()); err != nil {
		t.Errorf("the token after a forged revocation: %v", err)
	}
}
