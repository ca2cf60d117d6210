package account

import (
	"errors"
	"time"
)

// ErrSessionNotFound is returned for a session token that is unknown,
// expired or revoked; callers treat the browser as signed out.
var ErrSessionNotFound = errors.New("account: session not found")

// Session is a signed-in browser session as the web layer sees it.
type Session struct {
	ID          int
	UserID      int
	Username    string
	DisplayName string
	// StaffRole is "none", "agent" or "admin".
	StaffRole string
	// MustEnroll2FA is set after support reset the account's 2FA: the
	// user enrols a second factor before anything else (EnrolmentDue
	// clears it once they have).
	MustEnroll2FA bool
	// AuthMethods lists how this session authenticated, e.g. "password",
	// "totp", "webauthn".
	AuthMethods []string
	ExpiresAt   time.Time
}
