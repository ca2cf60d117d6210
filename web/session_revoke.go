package web

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
)

// sessionRevoke signs out one of the user's sessions (another browser);
// its cookie stops working at its next request. Revoking this browser's
// own session is signing out.
func (h *handler) sessionRevoke(c *fiber.Ctx) error {
	s := currentSession(c)
	id, err := c.ParamsInt("id")
	if err != nil || id <= 0 {
		return fiber.ErrNotFound
	}
	err = h.acct.Security.RevokeSession(c.UserContext(), s.UserID, id, h.attempt(c))
	switch {
	case errors.Is(err, account.ErrNotFound):
		return h.redirectWithFlash(c, securityPath, "info", "That session had already ended.")
	case err != nil:
		return fmt.Errorf("web: revoke session %d of user %d: %w", id, s.UserID, err)
	}
	if id == s.ID {
		h.clearCookie(c, SessionCookie)
		return h.redirectWithFlash(c, "/", "success", "You are signed out.")
	}
	return h.redirectWithFlash(c, securityPath, "success", "That session was signed out.")
}
