package account

import (
	"context"
	"errors"
	"fmt"

	"github.com/recoverydesk/recoverydesk/internal/ratelimit"
)

// keyReauthState is the key, in a session's data, of the WebAuthn state
// between BeginReauthWebAuthn and its finish. Kept server-side, like the
// key-registration state, so that finishing uses it up: a copied answer
// cannot re-authenticate a second time.
const keyReauthState = "webauthn_reauth"

// BeginReauthWebAuthn starts re-authenticating the user signed in with
// session sessionID with one of their security keys or passkeys, and
// returns the options JSON for navigator.credentials.get. The ceremony
// state is kept in the session row (replacing any earlier unfinished one).
// A user without keys gets ErrKeyNotFound.
func (s *Services) BeginReauthWebAuthn(ctx context.Context, sessionID, userID int) ([]byte, error) {
	options, state, err := s.WebAuthn.BeginLogin(ctx, userID)
	if err != nil {
		return nil, err
	}
	err = s.putSessionState(ctx, sessionID, userID, keyReauthState, "key re-authentication", state)
	if err != nil {
		return nil, err
	}
	return options, nil
}

// FinishReauthWebAuthn verifies the browser's answer (PublicKeyCredential
// JSON) to BeginReauthWebAuthn and marks the session freshly authenticated
// (Security.MarkReauthenticated). It shares the per-account budget of the
// password step of sign-in with ConfirmPassword (*RateLimitedError when
// spent). The ceremony is used up by any finish that gets past the limit;
// without one it returns ErrCeremonyExpired. A key that does not verify
// gives ErrWebAuthnFailed (or ErrKeyCloned, ErrKeyNotFound) and is recorded
// as a failed attempt.
func (s *Services) FinishReauthWebAuthn(ctx context.Context, sessionID, userID int, response []byte, at Attempt) error {
	u, err := s.Security.st.Ent.User.Get(ctx, userID)
	if err != nil {
		return fmt.Errorf("account: user %d: %w", userID, err)
	}
	if err := limitErr(s.Limits.Allow(ctx, ratelimit.Key("login", "user", u.UsernameNormalized), ratelimit.LoginPerUser)); err != nil {
		return err
	}
	state, err := s.takeReauthState(ctx, sessionID, userID)
	if err != nil {
		return err
	}
	if _, err := s.WebAuthn.FinishLogin(ctx, userID, state, response); err != nil {
		if errors.Is(err, ErrWebAuthnFailed) || errors.Is(err, ErrKeyCloned) || errors.Is(err, ErrKeyNotFound) {
			_ = RecordEvent(ctx, s.Security.st.Ent, userID, EventLoginFailed, at.events(),
				map[string]any{DetailMethod: "webauthn", DetailReason: "bad_webauthn_reauth"})
		}
		return err
	}
	return s.Security.MarkReauthenticated(ctx, sessionID)
}

// takeReauthState removes and returns the re-authentication state kept in
// the session (see takeSessionState).
func (s *Services) takeReauthState(ctx context.Context, sessionID, userID int) ([]byte, error) {
	return s.takeSessionState(ctx, sessionID, userID, keyReauthState, "key re-authentication")
}
