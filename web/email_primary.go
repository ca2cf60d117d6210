package web

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
)

// emailMakePrimary makes a verified address the primary one, after
// re-authentication; the previous primary address is told.
func (h *handler) emailMakePrimary(c *fiber.Ctx) error {
	if redirected, err := h.reauthBefore(c); redirected || err != nil {
		return err
	}
	s := currentSession(c)
	id, err := c.ParamsInt("id")
	if err != nil || id <= 0 {
		return fiber.ErrNotFound
	}
	err = h.acct.Accounts.MakePrimary(c.UserContext(), s.UserID, id, h.attempt(c))
	switch {
	case errors.Is(err, account.ErrNotFound):
		return h.redirectWithFlash(c, securityPath, "info", "That address is no longer on your account.")
	case errors.Is(err, account.ErrEmailUnverified):
		return h.redirectWithFlash(c, securityPath, "error",
			"Verify that address before making it primary: open the link we sent to it, or send a new one.")
	case err != nil:
		return fmt.Errorf("web: make email %d primary for user %d: %w", id, s.UserID, err)
	}
	return h.redirectWithFlash(c, securityPath, "success",
		"Your primary email address was changed. Security notices and password-reset links go there now.")
}
