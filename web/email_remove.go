package web

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
)

// emailRemove removes an address other than the primary one, after
// re-authentication.
func (h *handler) emailRemove(c *fiber.Ctx) error {
	if redirected, err := h.reauthBefore(c); redirected || err != nil {
		return err
	}
	s := currentSession(c)
	id, err := c.ParamsInt("id")
	if err != nil || id <= 0 {
		return fiber.ErrNotFound
	}
	err = h.acct.Accounts.RemoveEmail(c.UserContext(), s.UserID, id, h.attempt(c))
	switch {
	case errors.Is(err, account.ErrNotFound):
		return h.redirectWithFlash(c, securityPath, "info", "That address was already removed.")
	case errors.Is(err, account.ErrEmailPrimary):
		return h.redirectWithFlash(c, securityPath, "error",
			"Your primary address cannot be removed. Make another verified address primary first.")
	case err != nil:
		return fmt.Errorf("web: remove email %d of user %d: %w", id, s.UserID, err)
	}
	return h.redirectWithFlash(c, securityPath, "success", "The address was removed from your account.")
}
