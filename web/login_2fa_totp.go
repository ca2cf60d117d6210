package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// login2FATOTP checks a code from the authenticator app.
func (h *handler) login2FATOTP(c *fiber.Ctx) error {
	next := nextParam(c)
	p, err := h.acct.Login.WithTOTP(c.UserContext(), loginToken(c), c.FormValue("code"), h.attempt(c))
	if err != nil {
		return h.secondFactorFailed(c, err, pages.Login2FAView{Next: next, TOTPError: loginErrorMessage(err)})
	}
	return h.secondFactorPassed(c, p, next)
}
