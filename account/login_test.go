package account_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/securityevent"
	"github.com/recoverydesk/recoverydesk/ent/trusteddevice"
	"github.com/recoverydesk/recoverydesk/internal/ratelimit"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// loginClock is shared by every service of one login test.
type loginClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *loginClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *loginClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type loginBundle struct {
	st       *store.Store
	clock    *loginClock
	sessions *account.Sessions
	login    *account.Login
}

func newLoginBundle(t *testing.T) *loginBundle {
	t.Helper()
	st := testdb.Store(t)
	clk := &loginClock{t: time.Now().Truncate(time.Second)}
	sessions := account.NewSessions(st.Ent, account.DefaultSessionPolicy, clk.now)
	base, _ := url.Parse("https://desk.example")
	wa, err := account.NewWebAuthn(st.Ent, account.WebAuthnConfigFromBaseURL("Test Desk", base), clk.now)
	if err != nil {
		t.Fatal(err)
	}
	l, err := account.NewLogin(account.LoginDeps{
		Store: st, Sessions: sessions, TOTP: account.NewTOTP(st.Ent, clk.now), WebAuthn: wa,
		Mailer: newTestMailer(t, st), Limits: ratelimit.New(st.Pool, clk.now), Params: &cheap, Now: clk.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &loginBundle{st: st, clock: clk, sessions: sessions, login: l}
}

// member is a seeded user with whatever second factors a test asks for.
type member struct {
	*ent.User
	password string
	secret   []byte
	codes    []string
}

var memberSeq int64
var memberMu sync.Mutex

func (b *loginBundle) member(t *testing.T, totp bool, codes int) member {
	t.Helper()
	ctx := context.Background()
	memberMu.Lock()
	memberSeq++
	name := fmt.Sprintf("m%d_%d", time.Now().UnixNano(), memberSeq)
	memberMu.Unlock()
	pw := "a long and unusual passphrase " + name
	hash, err := account.HashPassword(pw, cheap)
	if err != nil {
		t.Fatal(err)
	}
	u, err := b.st.Ent.User.Create().SetUsername(name).SetUsernameNormalized(name).SetDisplayName(name).SetPasswordHash(hash).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.st.Ent.EmailAddress.Create().SetUserID(u.ID).SetAddress(name + "@example.org").SetAddressNormalized(name + "@example.org").SetPrimary(true).SetVerifiedAt(b.clock.now()).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	m := member{User: u, password: pw}
	if totp {
		m.secret, _ = account.NewTOTPSecret()
		if err := b.st.Ent.TOTPCredential.Create().SetUserID(u.ID).SetSecret(m.secret).SetConfirmedAt(b.clock.now()).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if codes > 0 {
		m.codes, _ = account.NewRecoveryCodes(codes)
		for _, c := range m.codes {
			if err := b.st.Ent.RecoveryCode.Create().SetUserID(u.ID).SetCodeHash(account.HashRecoveryCode(c)).SetBatch(1).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	return m
}

func (b *loginBundle) code(m member) string {
	return account.TOTPCode(m.secret, account.TOTPStep(b.clock.now()))
}

var ipSeq atomic.Int64

// browsers returns two distinct browsers with IPs of their own, so the
// per-IP rate limit of one test does not bite another running in parallel.
func browsers() (a, b account.Attempt) {
	n := ipSeq.Add(1)
	a = account.Attempt{IP: fmt.Sprintf("10.1.%d.%d", n/250, n%250), UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", DeviceToken: fmt.Sprintf("device-A-%d-0123456789abcdef", n)}
	b = account.Attempt{IP: fmt.Sprintf("10.2.%d.%d", n/250, n%250), UserAgent: "Mozilla/5.0 (Windows NT 10.0) Chrome/130.0", DeviceToken: fmt.Sprintf("device-B-%d-0123456789abcdef", n)}
	return a, b
}

// confirmationLink reads the token of the newest unrecognized-login mail.
func (b *loginBundle) confirmationLink(t *testing.T, m member) (string, *ent.OutboundMail) {
	t.Helper()
	row, err := b.st.Ent.OutboundMail.Query().
		Where(outboundmail.UserID(m.ID), outboundmail.Purpose("unrecognized_login")).
		Order(ent.Desc(outboundmail.FieldID)).First(context.Background())
	if err != nil {
		t.Fatalf("no unrecognized-login mail: %v", err)
	}
	match := regexp.MustCompile(`/login/confirm\?token=([A-Za-z0-9_-]+)`).FindStringSubmatch(row.BodyText)
	if match == nil {
		t.Fatalf("no confirmation link in:\n%s", row.BodyText)
	}
	return match[1], row
}

func (b *loginBundle) events(t *testing.T, m member, kind account.EventKind) int {
	t.Helper()
	n, err := b.st.Ent.SecurityEvent.Query().Where(securityevent.UserID(m.ID), securityevent.Kind(string(kind))).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLoginPasswordOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newLoginBundle(t)
	browserA, browserB := browsers()
	_ = browserB
	m := b.member(t, false, 0)
	p, err := b.login.WithPassword(ctx, " "+m.Username+" ", m.password, browserA)
	if err != nil {
		t.Fatal(err)
	}
	if p.Stage != account.StageDone || p.SessionToken == "" {
		t.Fatalf("progress %+v, want done with a session", p)
	}
	s, err := b.sessions.Lookup(ctx, p.SessionToken)
	if err != nil || s.UserID != m.ID {
		t.Fatalf("session %+v, %v", s, err)
	}
	if b.events(t, m, account.EventLoginSucceeded) != 1 {
		t.Fatal("no login_succeeded event")
	}
}

func TestLoginWrongPasswordAndUnknownUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newLoginBundle(t)
	browserA, browserB := browsers()
	_ = browserB
	m := b.member(t, false, 0)
	if _, err := b.login.WithPassword(ctx, m.Username, "wrong password", browserA); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := b.login.WithPassword(ctx, "nobody_"+m.Username, m.password, browserA); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("unknown user: %v", err)
	}
	if b.events(t, m, account.EventLoginFailed) != 1 {
		t.Fatal("the failed attempt was not recorded")
	}
	if err := b.st.Ent.User.UpdateOneID(m.ID).SetStatus("locked").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.login.WithPassword(ctx, m.Username, m.password, browserA); !errors.Is(err, account.ErrAccountDisabled) {
		t.Fatalf("locked account: %v", err)
	}
}

func TestLoginUnrecognizedBrowserIsHeldUntilConfirmedInThatBrowser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newLoginBundle(t)
	browserA, browserB := browsers()
	_ = browserB
	m := b.member(t, true, 0)

	p, err := b.login.WithPassword(ctx, m.Username, m.password, browserA)
	if err != nil {
		t.Fatal(err)
	}
	if p.Stage != account.StageSecondFactor || !p.Factors.TOTP || p.SessionToken != "" {
		t.Fatalf("after password: %+v", p)
	}
	pending := p.PendingToken
	if _, err := b.sessions.Lookup(ctx, pending); err == nil {
		t.Fatal("a half-finished login counts as signed in")
	}
	p, err = b.login.WithTOTP(ctx, pending, b.code(m), browserA)
	if err != nil {
		t.Fatal(err)
	}
	if p.Stage != account.StageHeld || p.SessionToken != "" {
		t.Fatalf("after TOTP from an unrecognized browser: %+v, want held", p)
	}
	link, mailRow := b.confirmationLink(t, m)
	if mailRow.Subject != "Unrecognized login to your Test Desk account" {
		t.Fatalf("subject %q", mailRow.Subject)
	}
	// Still held when polled.
	if p, err := b.login.HeldStatus(ctx, pending, browserA); err != nil || p.Stage != account.StageHeld {
		t.Fatalf("status before confirmation: %+v, %v", p, err)
	}
	// Another browser (a phisher's, or the owner's phone) confirms nothing.
	if err := b.login.ConfirmHeld(ctx, link, browserB); !errors.Is(err, account.ErrWrongBrowser) {
		t.Fatalf("confirm from another browser: %v", err)
	}
	if p, _ := b.login.HeldStatus(ctx, pending, browserA); p.Stage != account.StageHeld {
		t.Fatal("a wrong-browser click confirmed the login")
	}
	// The same browser confirms even from another IP.
	sameBrowserNewIP := browserA
	sameBrowserNewIP.IP = "203.0.113.99"
	if err := b.login.ConfirmHeld(ctx, link, sameBrowserNewIP); err != nil {
		t.Fatalf("confirm in the same browser: %v", err)
	}
	if err := b.login.ConfirmHeld(ctx, link, browserA); !errors.Is(err, account.ErrTokenUsed) {
		t.Fatalf("reused link: %v", err)
	}
	p, err = b.login.HeldStatus(ctx, pending, browserA)
	if err != nil || p.Stage != account.StageDone || p.SessionToken == "" {
		t.Fatalf("status after confirmation: %+v, %v", p, err)
	}
	if _, err := b.sessions.Lookup(ctx, p.SessionToken); err != nil {
		t.Fatal(err)
	}
	// The other tab polling now finds the login finished.
	if _, err := b.login.HeldStatus(ctx, pending, browserA); !errors.Is(err, account.ErrLoginExpired) {
		t.Fatalf("second completion: %v", err)
	}

	// The browser is now trusted: the next TOTP login is not held.
	b.clock.add(time.Minute)
	p, _ = b.login.WithPassword(ctx, m.Username, m.password, browserA)
	p, err = b.login.WithTOTP(ctx, p.PendingToken, b.code(m), browserA)
	if err != nil || p.Stage != account.StageDone {
		t.Fatalf("login from the trusted browser: %+v, %v", p, err)
	}
	// 90 days unused, the trust lapses.
	b.clock.add(account.TrustedDeviceTTL + time.Hour)
	p, _ = b.login.WithPassword(ctx, m.Username, m.password, browserA)
	p, err = b.login.WithTOTP(ctx, p.PendingToken, b.code(m), browserA)
	if err != nil || p.Stage != account.StageHeld {
		t.Fatalf("after 90 days unused: %+v, %v; want held", p, err)
	}
}

func TestLoginTOTPReplayRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newLoginBundle(t)
	browserA, browserB := browsers()
	_ = browserB
	m := b.member(t, true, 0)
	trust(t, b, m, browserA)
	code := b.code(m)
	p, _ := b.login.WithPassword(ctx, m.Username, m.password, browserA)
	if _, err := b.login.WithTOTP(ctx, p.PendingToken, code, browserA); err != nil {
		t.Fatal(err)
	}
	p, _ = b.login.WithPassword(ctx, m.Username, m.password, browserA)
	if _, err := b.login.WithTOTP(ctx, p.PendingToken, code, browserA); !errors.Is(err, account.ErrTOTPReplayed) {
		t.Fatalf("replayed code: %v", err)
	}
	if _, err := b.login.WithTOTP(ctx, p.PendingToken, "000000", browserA); !errors.Is(err, account.ErrTOTPInvalid) && !errors.Is(err, account.ErrTOTPReplayed) {
		t.Fatalf("wrong code: %v", err)
	}
}

// trust makes browser a trusted device of m.
func trust(t *testing.T, b *loginBundle, m member, a account.Attempt) {
	t.Helper()
	ctx := context.Background()
	p, err := b.login.WithPassword(ctx, m.Username, m.password, a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.login.WithTOTP(ctx, p.PendingToken, b.code(m), a); err != nil {
		t.Fatal(err)
	}
	link, _ := b.confirmationLink(t, m)
	if err := b.login.ConfirmHeld(ctx, link, a); err != nil {
		t.Fatal(err)
	}
	if _, err := b.login.HeldStatus(ctx, p.PendingToken, a); err != nil {
		t.Fatal(err)
	}
	n, _ := b.st.Ent.TrustedDevice.Query().Where(trusteddevice.UserID(m.ID)).Count(ctx)
	if n != 1 {
		t.Fatalf("%d trusted devices", n)
	}
	b.clock.add(time.Minute) // the next TOTP code is a new step
}

func TestLoginRecoveryCodeIsSingleUseAndMailed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newLoginBundle(t)
	browserA, browserB := browsers()
	_ = browserB
	m := b.member(t, true, 8)
	p, _ := b.login.WithPassword(ctx, m.Username, m.password, browserA)
	p, err := b.login.WithRecoveryCode(ctx, p.PendingToken, m.codes[3], browserA)
	if err != nil || p.Stage != account.StageHeld {
		t.Fatalf("recovery code from an unrecognized browser: %+v, %v; want held", p, err)
	}
	used, err := b.st.Ent.OutboundMail.Query().Where(outboundmail.UserID(m.ID), outboundmail.Purpose("recovery_code_used")).Only(ctx)
	if err != nil {
		t.Fatalf("no recovery-code-used mail: %v", err)
	}
	if !regexp.MustCompile(`\b7\b`).MatchString(used.BodyText) {
		t.Errorf("the mail does not say 7 codes are left:\n%s", used.BodyText)
	}
	p, _ = b.login.WithPassword(ctx, m.Username, m.password, browserA)
	if _, err := b.login.WithRecoveryCode(ctx, p.PendingToken, m.codes[3], browserA); !errors.Is(err, account.ErrRecoveryCodeInvalid) {
		t.Fatalf("reused recovery code: %v", err)
	}
}

func TestLoginHeldResendThrottleAndExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newLoginBundle(t)
	browserA, browserB := browsers()
	_ = browserB
	m := b.member(t, true, 0)
	p, _ := b.login.WithPassword(ctx, m.Username, m.password, browserA)
	pending := p.PendingToken
	if _, err := b.login.WithTOTP(ctx, pending, b.code(m), browserA); err != nil {
		t.Fatal(err)
	}
	first, _ := b.confirmationLink(t, m)
	var soon *account.ResendTooSoonError
	if _, err := b.login.ResendHeld(ctx, pending, browserA); !errors.As(err, &soon) {
		t.Fatalf("immediate resend: %v, want too soon", err)
	}
	b.clock.add(account.ResendInterval)
	if _, err := b.login.ResendHeld(ctx, pending, browserA); err != nil {
		t.Fatalf("resend after 15 minutes: %v", err)
	}
	second, _ := b.confirmationLink(t, m)
	if second == first {
		t.Fatal("the resent mail carries the same link")
	}
	if err := b.login.ConfirmHeld(ctx, first, browserA); !errors.Is(err, account.ErrTokenInvalid) {
		t.Fatalf("the superseded link: %v", err)
	}
	b.clock.add(account.LoginConfirmationTTL + time.Second)
	if err := b.login.ConfirmHeld(ctx, second, browserA); !errors.Is(err, account.ErrTokenExpired) {
		t.Fatalf("expired link: %v", err)
	}
	if err := b.login.ConfirmHeld(ctx, "forged-token", browserA); !errors.Is(err, account.ErrTokenInvalid) {
		t.Fatalf("forged link: %v", err)
	}
}

func TestLoginRateLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newLoginBundle(t)
	browserA, browserB := browsers()
	_ = browserB
	m := b.member(t, true, 0)
	a := browserA
	for i := range 10 {
		if _, err := b.login.WithPassword(ctx, m.Username, "wrong", a); !errors.Is(err, account.ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	var limited *account.RateLimitedError
	if _, err := b.login.WithPassword(ctx, m.Username, m.password, a); !errors.As(err, &limited) || limited.RetryAfter <= 0 {
		t.Fatalf("11th attempt: %v, want rate limited even with the right password", err)
	}
	// Second factor: 5 per 5 minutes.
	b.clock.add(10 * time.Minute)
	p, err := b.login.WithPassword(ctx, m.Username, m.password, a)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := b.login.WithTOTP(ctx, p.PendingToken, "000000", a); errors.As(err, &limited) {
			t.Fatalf("2FA attempt %d limited too early", i)
		}
	}
	if _, err := b.login.WithTOTP(ctx, p.PendingToken, b.code(m), a); !errors.As(err, &limited) {
		t.Fatalf("6th 2FA attempt: %v, want rate limited", err)
	}
}
