package account

import (
	"fmt"
	"net/url"
	"time"

	"github.com/recoverydesk/recoverydesk/internal/ratelimit"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// Services are the account services of one process, wired together.
type Services struct {
	Sessions *Sessions
	Login    *Login
	Accounts *Accounts
	Security *Security
	TOTP     *TOTP
	WebAuthn *WebAuthn
	Mailer   *Mailer
	Limits   *ratelimit.Limiter
}

// ServicesConfig is what NewServices needs.
type ServicesConfig struct {
	Store    *store.Store
	Outbox   *mailbox.Outbox
	SiteName string
	BaseURL  *url.URL
	// Params hash passwords; nil means DefaultPasswordParams (tests pass
	// cheaper ones).
	Params *PasswordParams
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewServices builds every account service on one store.
func NewServices(c ServicesConfig) (*Services, error) {
	now := c.Now
	if now == nil {
		now = time.Now
	}
	wa, err := NewWebAuthn(c.Store.Ent, WebAuthnConfigFromBaseURL(c.SiteName, c.BaseURL), now)
	if err != nil {
		return nil, fmt.Errorf("account: webauthn: %w", err)
	}
	s := &Services{
		Sessions: NewSessions(c.Store.Ent, DefaultSessionPolicy, now),
		TOTP:     NewTOTP(c.Store.Ent, now),
		WebAuthn: wa,
		Mailer:   NewMailer(c.Outbox, c.SiteName, c.BaseURL),
		Limits:   ratelimit.New(c.Store.Pool, now),
	}
	// One hasher for every service, so its limit holds for the process.
	hasher := hasherFor(nil, c.Params)
	s.Login, err = NewLogin(LoginDeps{Store: c.Store, Sessions: s.Sessions, TOTP: s.TOTP, WebAuthn: wa, Mailer: s.Mailer, Limits: s.Limits, Hasher: hasher, Now: now})
	if err != nil {
		return nil, err
	}
	s.Accounts = NewAccounts(AccountsDeps{Store: c.Store, Sessions: s.Sessions, Mailer: s.Mailer, Limits: s.Limits, Hasher: hasher, Now: now})
	s.Security = NewSecurity(c.Store, s.Sessions, s.Mailer, hasher, now)
	return s, nil
}
