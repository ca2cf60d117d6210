package account

import (
	"context"
	"fmt"

	"github.com/recoverydesk/recoverydesk/internal/ratelimit"
)

// ConfirmPassword re-authenticates the signed-in user with their password
// (Security.Reauthenticate) under the same per-account limit as the
// password step of sign-in, sharing its budget: a stolen session cookie
// must not become a way around the login limit to guess the password.
// A refused attempt returns *RateLimitedError.
func (s *Services) ConfirmPassword(ctx context.Context, sessionID, userID int, password string, at Attempt) error {
	u, err := s.Security.st.Ent.User.Get(ctx, userID)
	if err != nil {
		return fmt.Errorf("account: user %d: %w", userID, err)
	}
	d, err := s.Limits.Allow(ctx, ratelimit.Key("login", "user", u.UsernameNormalized), ratelimit.LoginPerUser)
	if err != nil {
		return fmt.Errorf("account: rate limit: %w", err)
	}
	if !d.Allowed {
		return &RateLimitedError{RetryAfter: d.RetryAfter}
	}
	return s.Security.Reauthenticate(ctx, sessionID, userID, password, at)
}
