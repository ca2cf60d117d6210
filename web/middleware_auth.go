package web

import (
	"fmt"

	"github.com/gofiber/fiber/v2"
)

// require2FAMessage is the banner on the 2FA setup page for someone sent
// there from a management page.
const require2FAMessage = "Two-factor authentication is required to manage projects and account settings. Set it up below."

// requireLogin lets signed-in requests through and sends anyone else to
// the sign-in page, which returns them here afterwards. Only a GET can be
// returned to; a form posted while signed out must be filled in again.
func (h *handler) requireLogin(c *fiber.Ctx) error {
	if currentSession(c) != nil {
		return c.Next()
	}
	next := ""
	if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
		next = string(c.Request().RequestURI())
	}
	return c.Redirect(withNext("/login", next), fiber.StatusSeeOther)
}

// require2FA lets through users who have a second factor; everyone else
// is sent to set one up, with a banner saying why. It runs after
// requireLogin. The security page and the 2FA setup pages do not use it:
// they are where it sends people.
func (h *handler) require2FA(c *fiber.Ctx) error {
	s := currentSession(c)
	if s == nil {
		return h.requireLogin(c)
	}
	enabled, err := h.acct.Security.HasSecondFactor(c.UserContext(), s.UserID)
	if err != nil {
		return fmt.Errorf("web: 2FA requirement: %w", err)
	}
	if enabled {
		return c.Next()
	}
	return h.redirectWithFlash(c, totpSetupPath, "info", require2FAMessage)
}

// Paths of the account pages that handlers redirect to.
const (
	securityPath  = "/account/security"
	totpSetupPath = "/account/2fa/totp"
	reauthPath    = "/account/reauth"
)
