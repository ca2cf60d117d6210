package web

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
)

// totpRemove removes the authenticator app, after re-authentication and
// never when it is the last second factor.
func (h *handler) totpRemove(c *fiber.Ctx) error {
	if redirected, err := h.reauthBefore(c); redirected || err != nil {
		return err
	}
	s := currentSession(c)
	err := h.acct.RemoveTOTP(c.UserContext(), s.UserID, h.attempt(c))
	switch {
	case errors.Is(err, account.ErrLastSecondFactor):
		return h.redirectWithFlash(c, securityPath, "error",
			"Your authenticator app is your only second factor, so it cannot be removed. Add a security key first, then remove the app.")
	case errors.Is(err, account.ErrTOTPNotEnrolled):
		return h.redirectWithFlash(c, securityPath, "info", "No authenticator app is set up.")
	case err != nil:
		return fmt.Errorf("web: remove TOTP of user %d: %w", s.UserID, err)
	}
	return h.redirectWithFlash(c, securityPath, "success",
		"The authenticator app was removed. Its codes no longer work for signing in.")
}
