package web

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
)

// emailResendVerification mails a new verification link to an unverified
// address; the older links to it stop working. It needs neither 2FA nor
// re-authentication: verifying the sign-up address comes first. Too many
// re-sends get the 429 page (a *account.RateLimitedError).
func (h *handler) emailResendVerification(c *fiber.Ctx) error {
	s := currentSession(c)
	id, err := c.ParamsInt("id")
	if err != nil || id <= 0 {
		return fiber.ErrNotFound
	}
	err = h.acct.Accounts.ResendVerification(c.UserContext(), s.UserID, id, h.attempt(c))
	switch {
	case errors.Is(err, account.ErrNotFound):
		return h.redirectWithFlash(c, securityPath, "info", "That address is no longer on your account.")
	case errors.Is(err, account.ErrEmailAlreadyVerified):
		return h.redirectWithFlash(c, securityPath, "info", "That address is already verified.")
	case err != nil:
		return fmt.Errorf("web: resend verification of email %d for user %d: %w", id, s.UserID, err)
	}
	return h.redirectWithFlash(c, securityPath, "success",
		"We sent a new verification link. Earlier links to that address no longer work.")
}
