package web

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
)

// rotateSessionToken gives this browser a new session token after a
// privilege change (a second factor added), revoking the old one, and
// makes the new session the request's, so that forms on the page rendered
// next carry CSRF tokens bound to it.
func (h *handler) rotateSessionToken(c *fiber.Ctx) error {
	token, err := h.acct.Sessions.Rotate(c.UserContext(), c.Cookies(SessionCookie))
	if err != nil {
		return fmt.Errorf("web: rotate session: %w", err)
	}
	s, err := h.sessions.Lookup(c.UserContext(), token)
	if err != nil {
		return fmt.Errorf("web: load rotated session: %w", err)
	}
	h.setCookie(c, SessionCookie, token, account.DefaultSessionPolicy.Lifetime)
	c.Locals(sessionKey{}, s)
	return nil
}
