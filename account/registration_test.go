package account_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/actiontoken"
	"github.com/recoverydesk/recoverydesk/ent/emailaddress"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/session"
	"github.com/recoverydesk/recoverydesk/ent/trusteddevice"
	"github.com/recoverydesk/recoverydesk/internal/ratelimit"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

func newAccounts(t *testing.T, clk *loginClock) *account.Accounts {
	t.Helper()
	st := testdb.Store(t)
	return account.NewAccounts(account.AccountsDeps{
		Store: st, Sessions: account.NewSessions(st.Ent, account.DefaultSessionPolicy, clk.now),
		Mailer: newTestMailer(t, st), Limits: ratelimit.New(st.Pool, clk.now), Params: &cheap, Now: clk.now,
	})
}

// linkToken reads the token of the newest mail of purpose sent to userID.
func linkToken(t *testing.T, userID int, purpose string) string {
	t.Helper()
	row, err := testdb.Store(t).Ent.OutboundMail.Query().
		Where(outboundmail.UserID(userID), outboundmail.Purpose(purpose)).
		Order(ent.Desc(outboundmail.FieldID)).First(context.Background())
	if err != nil {
		t.Fatalf("no %s mail: %v", purpose, err)
	}
	m := regexp.MustCompile(`token=([A-Za-z0-9_-]+)`).FindStringSubmatch(row.BodyText)
	if m == nil {
		t.Fatalf("no link in %s mail:\n%s", purpose, row.BodyText)
	}
	return m[1]
}

func uniqueName(prefix string) string {
	memberMu.Lock()
	defer memberMu.Unlock()
	memberSeq++
	return fmt.Sprintf("%s%d%d", prefix, time.Now().UnixNano()%1e9, memberSeq)
}

func TestRegisterAndVerifyEmail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &loginClock{t: time.Now()}
	a := newAccounts(t, clk)
	at, _ := browsers()
	name := uniqueName("reg")
	u, err := a.Register(ctx, account.Registration{Username: name, Email: name + "@Example.org", Password: "velvet kettle orbit nine"}, at)
	if err != nil {
		t.Fatal(err)
	}
	token := linkToken(t, u.ID, account.MailEmailVerification)
	if _, err := a.VerifyEmail(ctx, "forged", at); !errors.Is(err, account.ErrTokenInvalid) {
		t.Fatalf("forged token: %v", err)
	}
	id, err := a.VerifyEmail(ctx, token, at)
	if err != nil || id != u.ID {
		t.Fatalf("verify: %d, %v", id, err)
	}
	e, err := testdb.Store(t).Ent.EmailAddress.Query().Where(emailaddress.UserID(u.ID)).Only(ctx)
	if err != nil || e.VerifiedAt == nil || !e.Primary || e.AddressNormalized != name+"@example.org" {
		t.Fatalf("address after verification: %+v, %v", e, err)
	}
	if _, err := a.VerifyEmail(ctx, token, at); !errors.Is(err, account.ErrTokenUsed) {
		t.Fatalf("reused token: %v", err)
	}

	// The same username (any case) and the now-verified address are taken.
	_, err = a.Register(ctx, account.Registration{Username: "  " + toUpper(name), Email: name + "@example.org", Password: "velvet kettle orbit nine"}, at)
	var fe account.FieldErrors
	if !errors.As(err, &fe) || fe["username"] == "" || fe["email"] == "" {
		t.Fatalf("duplicate registration: %v", err)
	}
}

func toUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func TestRegisterFieldErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAccounts(t, &loginClock{t: time.Now()})
	at, _ := browsers()
	tests := []struct {
		r      account.Registration
		fields []string
	}{
		{account.Registration{}, []string{"username", "email", "password"}},
		{account.Registration{Username: "ab", Email: "x@example.org", Password: "velvet kettle orbit nine"}, []string{"username"}},
		{account.Registration{Username: "-bad", Email: "x@example.org", Password: "velvet kettle orbit nine"}, []string{"username"}},
		{account.Registration{Username: uniqueName("ok"), Email: "not-an-address", Password: "velvet kettle orbit nine"}, []string{"email"}},
		{account.Registration{Username: uniqueName("ok"), Email: "Name <x@example.org>", Password: "velvet kettle orbit nine"}, []string{"email"}},
		{account.Registration{Username: uniqueName("ok"), Email: "x@example.org", Password: "password1"}, []string{"password"}},
		{account.Registration{Username: uniqueName("ok"), Email: "x@example.org", Password: "short"}, []string{"password"}},
	}
	for i, tc := range tests {
		_, err := a.Register(ctx, tc.r, at)
		var fe account.FieldErrors
		if !errors.As(err, &fe) {
			t.Fatalf("case %d: %v, want field errors", i, err)
		}
		for _, f := range tc.fields {
			if fe[f] == "" {
				t.Errorf("case %d: no error for %s in %v", i, f, fe)
			}
		}
		if len(fe) != len(tc.fields) {
			t.Errorf("case %d: errors %v, want only %v", i, fe, tc.fields)
		}
	}
}

func TestVerificationLinkExpires(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &loginClock{t: time.Now()}
	a := newAccounts(t, clk)
	at, _ := browsers()
	name := uniqueName("exp")
	u, err := a.Register(ctx, account.Registration{Username: name, Email: name + "@example.org", Password: "velvet kettle orbit nine"}, at)
	if err != nil {
		t.Fatal(err)
	}
	token := linkToken(t, u.ID, account.MailEmailVerification)
	clk.add(account.EmailVerificationTTL + time.Second)
	if _, err := a.VerifyEmail(ctx, token, at); !errors.Is(err, account.ErrTokenExpired) {
		t.Fatalf("expired link: %v", err)
	}
}

func TestPasswordResetRevokesSessionsAndDevices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newLoginBundle(t)
	at, _ := browsers()
	a := newAccounts(t, b.clock)
	m := b.member(t, false, 0)
	st := testdb.Store(t)
	old, _ := b.sessions.Create(ctx, nil, m.ID, account.SessionMeta{})
	if err := st.Ent.TrustedDevice.Create().SetUserID(m.ID).SetDeviceHash([]byte("some device hash")).Exec(ctx); err != nil {
		t.Fatal(err)
	}

	// Unknown accounts get the same silence as known ones.
	if err := a.RequestPasswordReset(ctx, "nobody-"+m.Username, at); err != nil {
		t.Fatal(err)
	}
	if err := a.RequestPasswordReset(ctx, m.Username, at); err != nil {
		t.Fatal(err)
	}
	first := linkToken(t, m.ID, account.MailPasswordReset)
	if err := a.RequestPasswordReset(ctx, m.Username+"@example.org", at); err != nil {
		t.Fatal(err)
	}
	token := linkToken(t, m.ID, account.MailPasswordReset)
	if err := a.ResetPassword(ctx, first, "a fresh unusual passphrase", at); err == nil {
		t.Fatal("a superseded reset link still works")
	}
	if err := a.ResetPassword(ctx, token, "password1", at); err == nil {
		t.Fatal("a common password was accepted")
	}
	if err := a.CheckResetToken(ctx, token); err != nil {
		t.Fatalf("a refused password spent the link: %v", err)
	}
	if err := a.ResetPassword(ctx, token, "a fresh unusual passphrase", at); err != nil {
		t.Fatal(err)
	}
	if err := a.ResetPassword(ctx, token, "another fresh passphrase", at); !errors.Is(err, account.ErrTokenUsed) {
		t.Fatalf("reused reset link: %v", err)
	}
	if _, err := b.sessions.Lookup(ctx, old); !errors.Is(err, account.ErrSessionNotFound) {
		t.Fatalf("session survived the reset: %v", err)
	}
	if n, _ := st.Ent.TrustedDevice.Query().Where(trusteddevice.UserID(m.ID), trusteddevice.RevokedAtIsNil()).Count(ctx); n != 0 {
		t.Fatal("trusted device survived the reset")
	}
	if _, err := b.login.WithPassword(ctx, m.Username, m.password, at); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("old password: %v", err)
	}
	if p, err := b.login.WithPassword(ctx, m.Username, "a fresh unusual passphrase", at); err != nil || p.Stage != account.StageDone {
		t.Fatalf("new password: %+v, %v", p, err)
	}
	if n, _ := st.Ent.OutboundMail.Query().Where(outboundmail.UserID(m.ID), outboundmail.Purpose(account.MailPasswordChanged)).Count(ctx); n != 1 {
		t.Fatalf("%d password-changed mails", n)
	}
	// The link expires after an hour.
	if err := a.RequestPasswordReset(ctx, m.Username, at); err != nil {
		t.Fatal(err)
	}
	late := linkToken(t, m.ID, account.MailPasswordReset)
	b.clock.add(account.PasswordResetTTL + time.Second)
	if err := a.ResetPassword(ctx, late, "yet another passphrase here", at); !errors.Is(err, account.ErrTokenExpired) {
		t.Fatalf("expired reset link: %v", err)
	}
	_ = actiontoken.FieldID
}

func TestChangePasswordRotatesSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newLoginBundle(t)
	at, _ := browsers()
	a := newAccounts(t, b.clock)
	m := b.member(t, true, 0)
	other, _ := b.sessions.Create(ctx, nil, m.ID, account.SessionMeta{})
	fresh, err := a.ChangePassword(ctx, m.ID, "completely new passphrase", []string{"password", "totp"}, at)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.sessions.Lookup(ctx, other); !errors.Is(err, account.ErrSessionNotFound) {
		t.Fatal("another session survived the password change")
	}
	s, err := b.sessions.Lookup(ctx, fresh)
	if err != nil || s.UserID != m.ID {
		t.Fatalf("fresh session: %+v, %v", s, err)
	}
	live, _ := testdb.Store(t).Ent.Session.Query().Where(session.UserID(m.ID), session.RevokedAtIsNil()).Count(ctx)
	if live != 1 {
		t.Fatalf("%d live sessions, want only the fresh one", live)
	}
	var limited *account.RateLimitedError
	for range 6 {
		err = a.RequestPasswordReset(ctx, m.Username, at)
	}
	if !errors.As(err, &limited) {
		t.Fatalf("6th reset request in a day: %v, want rate limited", err)
	}
}
