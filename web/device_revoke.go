package web

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
)

// deviceRevoke stops trusting one browser: its next sign-in with an
// authenticator code or a recovery code needs email confirmation again.
func (h *handler) deviceRevoke(c *fiber.Ctx) error {
	s := currentSession(c)
	id, err := c.ParamsInt("id")
	if err != nil || id <= 0 {
		return fiber.ErrNotFound
	}
	err = h.acct.Security.RevokeDevice(c.UserContext(), s.UserID, id, h.attempt(c))
	switch {
	case errors.Is(err, account.ErrNotFound):
		return h.redirectWithFlash(c, securityPath, "info", "That browser was no longer trusted.")
	case err != nil:
		return fmt.Errorf("web: revoke device %d of user %d: %w", id, s.UserID, err)
	}
	return h.redirectWithFlash(c, securityPath, "success",
		"That browser is no longer trusted. Signing in there will need email confirmation again.")
}
