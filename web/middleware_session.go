package web

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
)

// SessionCookie is the name of the cookie holding the session token.
const SessionCookie = "rd_session"

type sessionKey struct{}

// loadSession resolves the session cookie into the signed-in session, or
// nil, for the handlers after it (see currentSession). An unknown or
// expired token signs the browser out and drops the cookie; any other
// lookup failure is an error, because showing a signed-in person as
// signed out would be confusing and wrong.
func (h *handler) loadSession(c *fiber.Ctx) error {
	token := c.Cookies(SessionCookie)
	if token == "" {
		return c.Next()
	}
	s, err := h.sessions.Lookup(c.UserContext(), token)
	switch {
	case errors.Is(err, account.ErrSessionNotFound):
		h.clearCookie(c, SessionCookie)
	case err != nil:
		return fmt.Errorf("web: load session: %w", err)
	default:
		c.Locals(sessionKey{}, s)
	}
	return c.Next()
}

// currentSession returns the signed-in session of this request, or nil
// when the browser is signed out.
func currentSession(c *fiber.Ctx) *account.Session {
	s, _ := c.Locals(sessionKey{}).(*account.Session)
	return s
}
