package account_test

import (
	"bytes"
	"context"
	"errors"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/apitoken"
	"github.com/recoverydesk/recoverydesk/ent/emailaddress"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/projectrole"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// tokenAt is the browser of the token tests, named in events and mail.
var tokenAt = account.Attempt{IP: "203.0.113.44", UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}

// newTokenServices wires the account services to the package database on
// clk, so expiry can be tested without waiting.
func newTokenServices(t *testing.T, clk *loginClock) (*account.Services, *store.Store) {
	t.Helper()
	st := testdb.Store(t)
	ob, err := mailbox.NewOutbox(mailbox.OutboxConfig{Client: st.Ent, From: mail.Address{Address: "support@desk.test"}})
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(waOrigin)
	s, err := account.NewServices(account.ServicesConfig{Store: st, Outbox: ob, SiteName: "Test Desk", BaseURL: base, Params: &cheap, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

// tokenUser is a user with a verified primary address and, if has2FA, a
// confirmed authenticator app.
func tokenUser(t *testing.T, st *store.Store, has2FA bool) *ent.User {
	t.Helper()
	ctx := context.Background()
	u := makeUser(t, st.Ent)
	addr := u.Username + "@example.org"
	if err := st.Ent.EmailAddress.Create().SetUserID(u.ID).SetAddress(addr).SetAddressNormalized(addr).
		SetPrimary(true).SetVerifiedAt(time.Now()).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if has2FA {
		secret, err := account.NewTOTPSecret()
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Ent.TOTPCredential.Create().SetUserID(u.ID).SetSecret(secret).SetConfirmedAt(time.Now()).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

func mustCreateToken(t *testing.T, s *account.Services, userID int, p account.NewAPIToken) *account.CreatedAPIToken {
	t.Helper()
	c, err := s.CreateAPIToken(context.Background(), userID, p, tokenAt)
	if err != nil {
		t.Fatalf("create token %+v: %v", p, err)
	}
	return c
}

func countTokens(t *testing.T, st *store.Store, userID int) int {
	t.Helper()
	n, err := st.Ent.APIToken.Query().Where(apitoken.UserID(userID)).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAPITokenCreateStoresOnlyTheHashAndTellsTheOwner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &loginClock{t: time.Now().Truncate(time.Second)}
	s, st := newTokenServices(t, clk)
	u := tokenUser(t, st, true)

	c := mustCreateToken(t, s, u.ID, account.NewAPIToken{Name: "  GitHub Actions  "})
	if !account.LooksLikeAPIToken(c.Token) || !strings.HasPrefix(c.Token, account.APITokenPrefix) || len(c.Token) != len(account.APITokenPrefix)+52 {
		t.Fatalf("token %q does not have the token shape", c.Token)
	}
	if c.Name != "GitHub Actions" || c.Project != "" || !c.Expires.IsZero() || !c.Live() || !c.Created.Equal(clk.now()) {
		t.Errorf("created %+v: want the trimmed name, whole-account scope, no expiry, live", c.APITokenInfo)
	}
	if !strings.HasPrefix(c.Token, c.Prefix) || len(c.Prefix) != len(account.APITokenPrefix)+8 {
		t.Errorf("prefix %q is not the token's first 12 characters", c.Prefix)
	}

	row, err := st.Ent.APIToken.Get(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(row.TokenHash, account.HashAPIToken(c.Token)) || row.Prefix != c.Prefix || row.UserID != u.ID || row.ProjectID != nil || row.ExpiresAt != nil {
		t.Errorf("stored row %+v does not match the token", row)
	}
	// Shown once: nothing stored, logged or mailed holds the secret.
	var leaks int
	if err := st.Pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM api_tokens WHERE strpos(name, $1) > 0 OR strpos(prefix, $1) > 0) +
		(SELECT count(*) FROM security_events WHERE strpos(details::text, $1) > 0) +
		(SELECT count(*) FROM audit_events WHERE strpos(details::text, $1) > 0) +
		(SELECT count(*) FROM outbound_mails WHERE strpos(body_text, $1) > 0 OR strpos(coalesce(body_html, ''), $1) > 0)`,
		c.Token).Scan(&leaks); err != nil {
		t.Fatal(err)
	}
	if leaks != 0 {
		t.Errorf("the secret is stored in %d rows", leaks)
	}

	got, err := account.AuthenticateAPIToken(ctx, st.Ent, c.Token, clk.now())
	if err != nil || got.ID != c.ID || got.Edges.User.ID != u.ID {
		t.Fatalf("authenticate the new token: %v, %+v", err, got)
	}

	events := eventsOf(t, u.ID, account.EventAPITokenCreated)
	if len(events) != 1 || events[0].IP != tokenAt.IP || events[0].Details["prefix"] != c.Prefix || events[0].Details["name"] != c.Name {
		t.Errorf("events %+v, want one naming the token by prefix, from the browser's IP", events)
	}
	if acts := auditActions(t, st, u.ID); len(acts) != 1 || acts[0] != "account."+string(account.EventAPITokenCreated) {
		t.Errorf("audit actions %v", acts)
	}
	m := mailOf(t, st, u.ID, account.MailAPITokenCreated)
	if m.ToAddress != u.Username+"@example.org" || !strings.Contains(m.Subject, "New API token") {
		t.Errorf("mail to %q subject %q", m.ToAddress, m.Subject)
	}
	for _, want := range []string{"GitHub Actions", c.Prefix, "Every project of your account", "Never", tokenAt.IP, "Firefox 128 on Linux", "/account/tokens"} {
		if !strings.Contains(m.BodyText, want) || !strings.Contains(*m.BodyHTML, want) {
			t.Errorf("mail lacks %q:\n%s", want, m.BodyText)
		}
	}
}

func TestAPITokenScopeIsAProjectTheUserOwnsOrMaintains(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &loginClock{t: time.Now()}
	s, st := newTokenServices(t, clk)
	f := newProjectFactory(t, st.Ent)
	u, other := tokenUser(t, st, true), tokenUser(t, st, true)
	owned := f.project("Tiny.Lib", time.Now())
	f.role(owned, u, projectrole.RoleOwner, time.Now())
	maintained := f.project("help-er", time.Now())
	f.role(maintained, u, projectrole.RoleMaintainer, time.Now())
	foreign := f.project("Not_Mine", time.Now())
	f.role(foreign, other, projectrole.RoleOwner, time.Now())

	// The name is compared normalized, as uploads compare it.
	c := mustCreateToken(t, s, u.ID, account.NewAPIToken{Name: "lib", Project: strings.ToUpper(strings.ReplaceAll(owned.Name, ".", "_"))})
	if c.Project != owned.Name {
		t.Errorf("scope %q, want %q", c.Project, owned.Name)
	}
	if row, err := st.Ent.APIToken.Get(ctx, c.ID); err != nil || row.ProjectID == nil || *row.ProjectID != owned.ID {
		t.Errorf("stored scope %+v (%v), want project %d", row, err, owned.ID)
	}
	if m := mailOf(t, st, u.ID, account.MailAPITokenCreated); !strings.Contains(m.BodyText, `Only the project "`+owned.Name+`"`) {
		t.Errorf("mail does not name the scope:\n%s", m.BodyText)
	}
	if c := mustCreateToken(t, s, u.ID, account.NewAPIToken{Name: "helper", Project: maintained.Name}); c.Project != maintained.Name {
		t.Errorf("maintainer's scope %q", c.Project)
	}

	for _, name := range []string{foreign.Name, "no-such-project-" + owned.Name} {
		_, err := s.CreateAPIToken(ctx, u.ID, account.NewAPIToken{Name: "x " + name, Project: name}, tokenAt)
		wantFieldError(t, err, "project", "not an owner or maintainer of a project called")
	}
	if n := countTokens(t, st, u.ID); n != 2 {
		t.Errorf("%d tokens, want the 2 allowed", n)
	}
}

func TestAPITokenNameRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &loginClock{t: time.Now()}
	s, st := newTokenServices(t, clk)
	u := tokenUser(t, st, true)

	for _, tc := range []struct{ name, says string }{
		{"", "Give the token a name"},
		{" \t ", "Give the token a name"},
		{"line\nbreak", "control characters"},
		{strings.Repeat("a", account.MaxAPITokenNameLen+1), "at most 100 characters"},
		{strings.Repeat("é", 60), "count more than once"},
	} {
		_, err := s.CreateAPIToken(ctx, u.ID, account.NewAPIToken{Name: tc.name}, tokenAt)
		wantFieldError(t, err, "name", tc.says)
	}
	longest := mustCreateToken(t, s, u.ID, account.NewAPIToken{Name: strings.Repeat("a", account.MaxAPITokenNameLen)})
	if len(longest.Name) != account.MaxAPITokenNameLen {
		t.Errorf("name of %d characters stored as %d", account.MaxAPITokenNameLen, len(longest.Name))
	}

	deploy := mustCreateToken(t, s, u.ID, account.NewAPIToken{Name: "Deploy"})
	_, err := s.CreateAPIToken(ctx, u.ID, account.NewAPIToken{Name: " deploy ", Project: "nothing-" + u.Username}, tokenAt)
	wantFieldError(t, err, "name", "already have a token with this name")
	wantFieldError(t, err, "project", "not an owner or maintainer") // every problem at once
	// Another user's names do not count.
	other := tokenUser(t, st, true)
	mustCreateToken(t, s, other.ID, account.NewAPIToken{Name: "Deploy"})
	// A revoked token's name is free again.
	if err := s.RevokeAPIToken(ctx, u.ID, deploy.ID, tokenAt); err != nil {
		t.Fatal(err)
	}
	mustCreateToken(t, s, u.ID, account.NewAPIToken{Name: "DEPLOY"})
	if n := countTokens(t, st, u.ID); n != 3 {
		t.Errorf("%d tokens, want 3", n)
	}
	if n := countEvents(t, st, u.ID, account.EventAPITokenCreated); n != 3 {
		t.Errorf("%d creation events, want 3 (none for refusals)", n)
	}
}

func TestAPITokenNameIsUniqueUnderConcurrentCreates(t *testing.T) {
	t.Parallel()
	clk := &loginClock{t: time.Now()}
	s, st := newTokenServices(t, clk)
	u := tokenUser(t, st, true)

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.CreateAPIToken(context.Background(), u.ID, account.NewAPIToken{Name: "Release bot"}, tokenAt)
		}()
	}
	wg.Wait()
	var fe account.FieldErrors
	if (errs[0] == nil) == (errs[1] == nil) || !errors.As(errors.Join(errs...), &fe) || fe["name"] == "" {
		t.Errorf("two creates with one name: %v, want one success and one name error", errs)
	}
	if n := countTokens(t, st, u.ID); n != 1 {
		t.Errorf("%d tokens, want 1", n)
	}
}

func TestAPITokenExpiryRulesAndExpiredTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &loginClock{t: time.Now().Truncate(time.Second)}
	s, st := newTokenServices(t, clk)
	u := tokenUser(t, st, true)
	now := clk.now()

	for _, tc := range []struct {
		expires time.Time
		says    string
	}{
		{now.Add(-time.Hour), "must be in the future"},
		{now, "must be in the future"},
		{now.Add(account.MaxAPITokenLifetime + time.Second), "at most a year from now"},
	} {
		_, err := s.CreateAPIToken(ctx, u.ID, account.NewAPIToken{Name: "ci", Expires: tc.expires}, tokenAt)
		wantFieldError(t, err, "expires", tc.says)
	}
	year := mustCreateToken(t, s, u.ID, account.NewAPIToken{Name: "yearly", Expires: now.Add(account.MaxAPITokenLifetime)})
	if !year.Expires.Equal(now.Add(account.MaxAPITokenLifetime)) {
		t.Errorf("expires %v", year.Expires)
	}
	hour := mustCreateToken(t, s, u.ID, account.NewAPIToken{Name: "short", Expires: now.Add(time.Hour)})
	if m := mailsTo(t, u.ID, account.MailAPITokenCreated, u.Username+"@example.org"); len(m) != 2 ||
		!strings.Contains(m[1].BodyText+m[0].BodyText, now.Add(time.Hour).UTC().Format("2 January 2006 at 15:04 UTC")) {
		t.Errorf("no mail names the expiry")
	}

	if _, err := account.AuthenticateAPIToken(ctx, st.Ent, hour.Token, now.Add(time.Hour-time.Second)); err != nil {
		t.Errorf("a second before expiry: %v", err)
	}
	for _, at := range []time.Time{now.Add(time.Hour), now.Add(48 * time.Hour)} {
		if _, err := account.AuthenticateAPIToken(ctx, st.Ent, hour.Token, at); !errors.Is(err, account.ErrAPITokenExpired) {
			t.Errorf("at %v: %v, want ErrAPITokenExpired", at, err)
		}
	}

	clk.add(2 * time.Hour)
	list, err := s.ListAPITokens(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range list {
		if (tk.ID == hour.ID) != tk.Expired || tk.Live() == (tk.ID == hour.ID) {
			t.Errorf("token %q: expired %v live %v", tk.Name, tk.Expired, tk.Live())
		}
	}
	// An expired token's name is free again.
	mustCreateToken(t, s, u.ID, account.NewAPIToken{Name: "Short"})
}

func TestAPITokenNeedsASecondFactor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &loginClock{t: time.Now()}
	s, st := newTokenServices(t, clk)
	u := tokenUser(t, st, false)

	if _, err := s.CreateAPIToken(ctx, u.ID, account.NewAPIToken{Name: "ci"}, tokenAt); !errors.Is(err, account.ErrAPITokenNeeds2FA) {
		t.Fatalf("without 2FA: %v, want ErrAPITokenNeeds2FA", err)
	}
	// Unconfirmed TOTP is not a factor either.
	secret, _ := account.NewTOTPSecret()
	if err := st.Ent.TOTPCredential.Create().SetUserID(u.ID).SetSecret(secret).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAPIToken(ctx, u.ID, account.NewAPIToken{Name: "ci"}, tokenAt); !errors.Is(err, account.ErrAPITokenNeeds2FA) {
		t.Fatalf("with an unconfirmed app: %v, want ErrAPITokenNeeds2FA", err)
	}
	if countTokens(t, st, u.ID) != 0 || countEvents(t, st, u.ID, account.EventAPITokenCreated) != 0 || countMails(t, st, u.ID, account.MailAPITokenCreated) != 0 {
		t.Error("a refused creation left a token, an event or a mail")
	}
}

func TestAPITokenListShowsLastUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &loginClock{t: time.Now().Truncate(time.Second)}
	s, st := newTokenServices(t, clk)
	f := newProjectFactory(t, st.Ent)
	u, other := tokenUser(t, st, true), tokenUser(t, st, true)
	p := f.project("listed", time.Now())
	f.role(p, u, projectrole.RoleOwner, time.Now())

	first := mustCreateToken(t, s, u.ID, account.NewAPIToken{Name: "first"})
	clk.add(time.Minute)
	second := mustCreateToken(t, s, u.ID, account.NewAPIToken{Name: "second", Project: p.Name, Expires: clk.now().Add(30 * 24 * time.Hour)})
	mustCreateToken(t, s, other.ID, account.NewAPIToken{Name: "theirs"})

	used := clk.now().Add(5 * time.Minute)
	if _, err := account.AuthenticateAPIToken(ctx, st.Ent, first.Token, used); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListAPITokens(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != second.ID || list[1].ID != first.ID {
		t.Fatalf("list %+v, want the user's two tokens, newest first", list)
	}
	if !list[1].LastUsed.Equal(used) || !list[0].LastUsed.IsZero() {
		t.Errorf("last used %v and %v, want %v and never", list[1].LastUsed, list[0].LastUsed, used)
	}
	if list[0].Project != p.Name || list[0].Prefix != second.Prefix || !list[0].Expires.Equal(clk.now().Add(30*24*time.Hour)) || list[1].Project != "" {
		t.Errorf("list %+v lost the scope, prefix or expiry", list)
	}
}

func TestAPITokenRevoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &loginClock{t: time.Now().Truncate(time.Second)}
	s, st := newTokenServices(t, clk)
	u, other := tokenUser(t, st, true), tokenUser(t, st, true)
	c := mustCreateToken(t, s, u.ID, account.NewAPIToken{Name: "laptop"})
	keep := mustCreateToken(t, s, u.ID, account.NewAPIToken{Name: "keep"})

	if err := s.RevokeAPIToken(ctx, other.ID, c.ID, tokenAt); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("another user revoking the token: %v, want ErrNotFound", err)
	}
	if err := s.RevokeAPIToken(ctx, u.ID, keep.ID+1000000, tokenAt); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("an unknown token: %v, want ErrNotFound", err)
	}
	if _, err := account.AuthenticateAPIToken(ctx, st.Ent, c.Token, clk.now()); err != nil {
		t.Fatalf("refused revocations changed the token: %v", err)
	}

	clk.add(time.Minute)
	if err := s.RevokeAPIToken(ctx, u.ID, c.ID, tokenAt); err != nil {
		t.Fatal(err)
	}
	if _, err := account.AuthenticateAPIToken(ctx, st.Ent, c.Token, clk.now()); !errors.Is(err, account.ErrAPITokenRevoked) {
		t.Errorf("revoked token: %v, want ErrAPITokenRevoked", err)
	}
	if _, err := account.AuthenticateAPIToken(ctx, st.Ent, keep.Token, clk.now()); err != nil {
		t.Errorf("the other token: %v", err)
	}
	list, err := s.ListAPITokens(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range list {
		if revoked := tk.ID == c.ID; revoked != !tk.Revoked.IsZero() || revoked == tk.Live() {
			t.Errorf("token %q: revoked %v", tk.Name, tk.Revoked)
		}
		if tk.ID == c.ID && !tk.Revoked.Equal(clk.now()) {
			t.Errorf("revoked at %v, want %v", tk.Revoked, clk.now())
		}
	}
	// Revoking twice is refused, without a second notice.
	if err := s.RevokeAPIToken(ctx, u.ID, c.ID, tokenAt); !errors.Is(err, account.ErrAPITokenRevoked) {
		t.Errorf("second revocation: %v, want ErrAPITokenRevoked", err)
	}
	if n := countEvents(t, st, u.ID, account.EventAPITokenRevoked); n != 1 {
		t.Errorf("%d revocation events, want 1", n)
	}
	m := mailOf(t, st, u.ID, account.MailAPITokenRevoked)
	for _, want := range []string{"laptop", c.Prefix, "refused from now on", tokenAt.IP, "Firefox 128 on Linux"} {
		if !strings.Contains(m.BodyText, want) || !strings.Contains(*m.BodyHTML, want) {
			t.Errorf("revocation mail lacks %q:\n%s", want, m.BodyText)
		}
	}
	if n, _ := st.Ent.OutboundMail.Query().Where(outboundmail.UserID(other.ID), outboundmail.Purpose(account.MailAPITokenRevoked)).Count(ctx); n != 0 {
		t.Error("the other user was mailed")
	}
}

// TestAPITokenChangeCommitsWithItsEventAndMail makes the notice fail (no
// primary address to send it to) and checks that the token change and
// its event roll back with it.
func TestAPITokenChangeCommitsWithItsEventAndMail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &loginClock{t: time.Now()}
	s, st := newTokenServices(t, clk)
	u := tokenUser(t, st, true)
	c := mustCreateToken(t, s, u.ID, account.NewAPIToken{Name: "kept"})

	if _, err := st.Ent.EmailAddress.Delete().Where(emailaddress.UserID(u.ID)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAPIToken(ctx, u.ID, account.NewAPIToken{Name: "unmailed"}, tokenAt); err == nil {
		t.Fatal("created a token whose notice could not be sent")
	}
	if err := s.RevokeAPIToken(ctx, u.ID, c.ID, tokenAt); err == nil {
		t.Fatal("revoked a token whose notice could not be sent")
	}
	if n := countTokens(t, st, u.ID); n != 1 {
		t.Errorf("%d tokens, want only the first", n)
	}
	if _, err := account.AuthenticateAPIToken(ctx, st.Ent, c.Token, clk.now()); err != nil {
		t.Errorf("the token was revoked without its notice: %v", err)
	}
	if countEvents(t, st, u.ID, account.EventAPITokenCreated) != 1 || countEvents(t, st, u.ID, account.EventAPITokenRevoked) != 0 {
		t.Error("an event outlived its rolled-back change")
	}
	if n := len(auditActions(t, st, u.ID)); n != 1 {
		t.Errorf("%d audit rows, want 1", n)
	}
}

func TestLooksLikeAPIToken(t *testing.T) {
	t.Parallel()
	secret, err := account.NewAPITokenSecret()
	if err != nil {
		t.Fatal(err)
	}
	body := secret.Token[len(account.APITokenPrefix):]
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{secret.Token, true},
		{"", false},
		{account.APITokenPrefix, false},
		{"pypi-" + body[1:], false}, // another index's prefix, same length
		{"RDT_" + body, false},      // the prefix is lower case
		{account.APITokenPrefix + strings.ToUpper(body), false},
		{account.APITokenPrefix + body[:51], false},       // one character short
		{secret.Token + "a", false},                       // one too many
		{account.APITokenPrefix + body[:51] + "1", false}, // not base32
		{account.APITokenPrefix + body[:51] + "=", false},
		{"correct horse battery staple, a long password!!!!!!!!", false},
	} {
		if got := account.LooksLikeAPIToken(tc.s); got != tc.want {
			t.Errorf("LooksLikeAPIToken(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
	other, _ := account.NewAPITokenSecret()
	if other.Token == secret.Token || bytes.Equal(other.Hash, secret.Hash) {
		t.Error("two secrets are the same")
	}
}

func TestAuthenticateAPITokenRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &loginClock{t: time.Now()}
	s, st := newTokenServices(t, clk)
	u := tokenUser(t, st, true)
	c := mustCreateToken(t, s, u.ID, account.NewAPIToken{Name: "ci"})
	unknown, _ := account.NewAPITokenSecret()

	for _, tok := range []string{"", "not a token", c.Token[:len(c.Token)-1], strings.ToUpper(c.Token), unknown.Token} {
		if _, err := account.AuthenticateAPIToken(ctx, st.Ent, tok, clk.now()); !errors.Is(err, account.ErrAPITokenInvalid) {
			t.Errorf("token %q: %v, want ErrAPITokenInvalid", tok, err)
		}
	}
	if err := st.Ent.User.UpdateOneID(u.ID).SetStatus(user.StatusLocked).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := account.AuthenticateAPIToken(ctx, st.Ent, c.Token, clk.now()); !errors.Is(err, account.ErrAPITokenAccountInactive) {
		t.Errorf("token of a locked account: %v, want ErrAPITokenAccountInactive", err)
	}
	if row, err := st.Ent.APIToken.Get(ctx, c.ID); err != nil || row.LastUsedAt != nil {
		t.Errorf("a refused use was recorded: %+v (%v)", row, err)
	}
}
