package account

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/ratelimit"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// The login state machine (see doc.go):
//
//	password ──no 2FA──────────────────────────────▶ done
//	    │ 2FA
//	    ▼
//	second factor ──WebAuthn, or trusted browser───▶ done
//	    │ TOTP / recovery code from an unrecognized browser
//	    ▼
//	held ──emailed link opened in this browser──────▶ done
//
// Passkeys skip the password: passkey ──▶ done.

// ErrBadCredentials is the one answer to a wrong username or password, so
// the form does not reveal which accounts exist.
var ErrBadCredentials = errors.New("account: the username or password is not correct")

// ErrAccountDisabled refuses a locked or disabled account after a correct
// password.
var ErrAccountDisabled = errors.New("account: this account is locked; use account recovery or contact support")

// RateLimitedError says an attempt was refused by a rate limit.
type RateLimitedError struct {
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return "account: " + e.Message()
}

// Message is the sentence a person reads.
func (e *RateLimitedError) Message() string {
	return fmt.Sprintf("Too many attempts. For your account's safety, wait %s and try again.", humanDuration(e.RetryAfter))
}

// Attempt describes the browser making a login request.
type Attempt struct {
	IP        string
	UserAgent string
	// DeviceToken is the browser's long-lived device cookie; a login can
	// only be confirmed from the browser holding the same token.
	DeviceToken string
}

func (a Attempt) events() EventContext {
	return EventContext{IP: a.IP, UserAgent: a.UserAgent, Device: SummarizeUserAgent(a.UserAgent)}
}

// Progress is where a login stands after a step.
type Progress struct {
	Stage Stage
	// UserID is set from the password step on.
	UserID int
	// PendingToken identifies the half-finished login (a cookie of its
	// own) until StageDone.
	PendingToken string
	// SessionToken is the new session at StageDone; empty when another tab
	// of the same browser completed the login first.
	SessionToken string
	// Factors says which second factors to offer at StageSecondFactor.
	Factors SecondFactors
	// MustEnroll2FA: after a 2FA reset the user must enrol before anything.
	MustEnroll2FA bool
	// ResendAt is when a held login's email may be sent again.
	ResendAt time.Time
}

// Login runs sign-in.
type Login struct {
	st        *store.Store
	sessions  *Sessions
	totp      *TOTP
	webauthn  *WebAuthn
	mailer    *Mailer
	limits    *ratelimit.Limiter
	hasher    *Hasher
	now       func() time.Time
	dummyHash string
}

// LoginDeps are the services a Login uses.
type LoginDeps struct {
	Store    *store.Store
	Sessions *Sessions
	TOTP     *TOTP
	WebAuthn *WebAuthn
	Mailer   *Mailer
	Limits   *ratelimit.Limiter
	// Hasher hashes and checks passwords; nil means one of its own with
	// Params (nil: DefaultPasswordParams).
	Hasher *Hasher
	Params *PasswordParams
	Now    func() time.Time
}

// NewLogin returns the login service.
func NewLogin(d LoginDeps) (*Login, error) {
	l := &Login{st: d.Store, sessions: d.Sessions, totp: d.TOTP, webauthn: d.WebAuthn, mailer: d.Mailer, limits: d.Limits, hasher: hasherFor(d.Hasher, d.Params), now: d.Now}
	if l.now == nil {
		l.now = time.Now
	}
	// Unknown usernames are checked against this hash, so a wrong username
	// costs as much time as a wrong password.
	h, err := HashPassword("not a real password", l.hasher.params)
	if err != nil {
		return nil, err
	}
	l.dummyHash = h
	return l, nil
}

// WithPassword is the first step.
func (l *Login) WithPassword(ctx context.Context, username, password string, a Attempt) (Progress, error) {
	name := NormalizeUsername(username)
	if err := l.limit(ctx, ratelimit.Key("login", "ip", a.IP), ratelimit.LoginPerIP); err != nil {
		return Progress{}, err
	}
	if err := l.limit(ctx, ratelimit.Key("login", "user", name), ratelimit.LoginPerUser); err != nil {
		return Progress{}, err
	}
	u, err := l.st.Ent.User.Query().Where(user.UsernameNormalized(name)).Only(ctx)
	if ent.IsNotFound(err) {
		if _, _, err := l.hasher.Verify(ctx, l.dummyHash, password); err != nil {
			return Progress{}, err
		}
		return Progress{}, ErrBadCredentials
	}
	if err != nil {
		return Progress{}, fmt.Errorf("account: find user: %w", err)
	}
	hash := ""
	if u.PasswordHash != nil {
		hash = *u.PasswordHash
	}
	ok, rehash := false, false
	if hash != "" {
		ok, rehash, err = l.hasher.Verify(ctx, hash, password)
		if err != nil {
			return Progress{}, fmt.Errorf("account: verify password of user %d: %w", u.ID, err)
		}
	} else if _, _, err := l.hasher.Verify(ctx, l.dummyHash, password); err != nil {
		return Progress{}, err
	}
	if !ok {
		l.failed(ctx, u.ID, "password", "bad_password", a)
		return Progress{}, ErrBadCredentials
	}
	if u.Status != user.StatusActive {
		l.failed(ctx, u.ID, "password", "account_"+string(u.Status), a)
		return Progress{}, ErrAccountDisabled
	}
	if rehash {
		if h, err := l.hasher.Hash(ctx, password); err == nil {
			_ = l.st.Ent.User.UpdateOneID(u.ID).SetPasswordHash(h).Exec(ctx)
		}
	}
	factors, err := LoadSecondFactors(ctx, l.st.Ent, u.ID)
	if err != nil {
		return Progress{}, err
	}
	if !factors.Enabled() {
		return l.complete(ctx, nil, u, []string{"password"}, "password", nil, a)
	}
	var p Progress
	err = l.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		token, err := l.startPending(ctx, tx.Ent, pendingState{Stage: StageSecondFactor, UserID: u.ID, Methods: []string{"password"}}, secondFactorWindow, a)
		p = Progress{Stage: StageSecondFactor, UserID: u.ID, PendingToken: token, Factors: factors}
		return err
	})
	return p, err
}

// Pending returns where the half-finished login of token stands, for the
// pages that show its next step.
func (l *Login) Pending(ctx context.Context, token string) (Progress, error) {
	_, st, err := l.loadPending(ctx, l.st.Ent, token, StageSecondFactor, StageHeld)
	if err != nil {
		return Progress{}, err
	}
	p := Progress{Stage: st.Stage, UserID: st.UserID, PendingToken: token}
	if st.Stage == StageSecondFactor {
		p.Factors, err = LoadSecondFactors(ctx, l.st.Ent, st.UserID)
	}
	return p, err
}

// WithTOTP completes the second factor with an authenticator code.
func (l *Login) WithTOTP(ctx context.Context, pendingToken, code string, a Attempt) (Progress, error) {
	return l.secondFactor(ctx, pendingToken, "totp", a, func(ctx context.Context, tx *store.Tx, userID int) error {
		return l.totp.Verify(ctx, tx.Ent, userID, code)
	})
}

// WithRecoveryCode completes the second factor with a recovery code, which
// is burned, and mails the owner that it was used.
func (l *Login) WithRecoveryCode(ctx context.Context, pendingToken, code string, a Attempt) (Progress, error) {
	return l.secondFactor(ctx, pendingToken, "recovery_code", a, func(ctx context.Context, tx *store.Tx, userID int) error {
		left, err := UseRecoveryCode(ctx, tx.Ent, userID, code, l.now())
		if err != nil {
			return err
		}
		u, to, err := primaryAddress(ctx, tx.Ent, userID)
		if err != nil {
			return err
		}
		if err := RecordChange(ctx, tx, userID, EventRecoveryCodeUsed, a.events(), map[string]any{"left": left}); err != nil {
			return err
		}
		return l.mailer.SendRecoveryCodeUsed(ctx, tx, to, RecoveryCodeUsedMail{UserID: userID, Username: u.Username, Remaining: left, Origin: a.origin(l.now())})
	})
}

// BeginWebAuthn starts the security-key ceremony of the second factor and
// returns the options for navigator.credentials.get.
func (l *Login) BeginWebAuthn(ctx context.Context, pendingToken string) ([]byte, error) {
	row, st, err := l.loadPending(ctx, l.st.Ent, pendingToken, StageSecondFactor)
	if err != nil {
		return nil, err
	}
	options, state, err := l.webauthn.BeginLogin(ctx, st.UserID)
	if err != nil {
		return nil, err
	}
	st.Ceremony = state
	return options, l.savePending(ctx, l.st.Ent, row, st, 0)
}

// WithWebAuthn completes the second factor with a security key. It is
// phishing-resistant, so it never holds the login for confirmation.
func (l *Login) WithWebAuthn(ctx context.Context, pendingToken string, response []byte, a Attempt) (Progress, error) {
	return l.secondFactor(ctx, pendingToken, "webauthn", a, func(ctx context.Context, tx *store.Tx, userID int) error {
		_, st, err := l.loadPending(ctx, tx.Ent, pendingToken, StageSecondFactor)
		if err != nil {
			return err
		}
		_, err = l.webauthn.FinishLogin(ctx, userID, st.Ceremony, response)
		return err
	})
}

// BeginPasskey starts a username-less sign-in; it returns the options for
// navigator.credentials.get and the token of the ceremony.
func (l *Login) BeginPasskey(ctx context.Context, a Attempt) (options []byte, pendingToken string, err error) {
	if err := l.limit(ctx, ratelimit.Key("login", "ip", a.IP), ratelimit.LoginPerIP); err != nil {
		return nil, "", err
	}
	options, state, err := l.webauthn.BeginPasskeyLogin(ctx)
	if err != nil {
		return nil, "", err
	}
	token, err := l.startPending(ctx, l.st.Ent, pendingState{Stage: StagePasskey, Ceremony: state}, secondFactorWindow, a)
	return options, token, err
}

// WithPasskey completes a username-less sign-in.
func (l *Login) WithPasskey(ctx context.Context, pendingToken string, response []byte, a Attempt) (Progress, error) {
	row, st, err := l.loadPending(ctx, l.st.Ent, pendingToken, StagePasskey)
	if err != nil {
		return Progress{}, err
	}
	userID, _, err := l.webauthn.FinishPasskeyLogin(ctx, st.Ceremony, response)
	if err != nil {
		return Progress{}, err
	}
	u, err := l.st.Ent.User.Get(ctx, userID)
	if err != nil {
		return Progress{}, fmt.Errorf("account: passkey user %d: %w", userID, err)
	}
	if u.Status != user.StatusActive {
		l.failed(ctx, u.ID, "passkey", "account_"+string(u.Status), a)
		return Progress{}, ErrAccountDisabled
	}
	return l.complete(ctx, row, u, []string{"passkey", "webauthn"}, "passkey", nil, a)
}

// secondFactor runs check (rate-limited) for the half-finished login, then
// completes it, or holds it when the method is not phishing-resistant and
// the browser is not trusted.
func (l *Login) secondFactor(ctx context.Context, pendingToken, method string, a Attempt, check func(context.Context, *store.Tx, int) error) (Progress, error) {
	row, st, err := l.loadPending(ctx, l.st.Ent, pendingToken, StageSecondFactor)
	if err != nil {
		return Progress{}, err
	}
	if err := l.limit(ctx, ratelimit.Key("2fa", "user", strconv.Itoa(st.UserID)), ratelimit.SecondFactor5m, ratelimit.SecondFactorHour); err != nil {
		return Progress{}, err
	}
	u, err := l.st.Ent.User.Get(ctx, st.UserID)
	if err != nil {
		return Progress{}, fmt.Errorf("account: login user %d: %w", st.UserID, err)
	}
	methods := append(st.Methods, method)
	if method == "webauthn" {
		return l.complete(ctx, row, u, methods, method, check, a)
	}
	device, err := l.trustedDevice(ctx, u.ID, a.DeviceToken)
	if err != nil {
		return Progress{}, err
	}
	if device != nil {
		return l.complete(ctx, row, u, methods, method, check, a)
	}
	return l.hold(ctx, row, st, u, methods, method, check, a)
}

// limit applies rules to key, turning a refusal into *RateLimitedError.
func (l *Login) limit(ctx context.Context, key string, rules ...ratelimit.Rule) error {
	d, err := l.limits.Allow(ctx, key, rules...)
	if err != nil {
		return fmt.Errorf("account: rate limit: %w", err)
	}
	if !d.Allowed {
		return &RateLimitedError{RetryAfter: d.RetryAfter}
	}
	return nil
}

// failed records a failed attempt against an existing account; a failure
// to record is not the user's problem, so it is not returned.
func (l *Login) failed(ctx context.Context, userID int, method, reason string, a Attempt) {
	_ = RecordEvent(ctx, l.st.Ent, userID, EventLoginFailed, a.events(), map[string]any{DetailMethod: method, DetailReason: reason})
}

// NormalizeUsername is the form usernames are compared in.
func NormalizeUsername(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}
