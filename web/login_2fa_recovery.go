package web

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// login2FARecovery checks a recovery code standing in for the second
// factor; the code is burned and the owner is mailed.
func (h *handler) login2FARecovery(c *fiber.Ctx) error {
	next := nextParam(c)
	p, err := h.acct.Login.WithRecoveryCode(c.UserContext(), loginToken(c), c.FormValue("recovery_code"), h.attempt(c))
	if err != nil {
		return h.secondFactorFailed(c, err, pages.Login2FAView{Next: next, RecoveryError: loginErrorMessage(err)})
	}
	return h.secondFactorPassed(c, p, next)
}

// secondFactorPassed follows a correct TOTP or recovery code: signed in
// from a trusted browser, else held until the emailed link is opened here.
func (h *handler) secondFactorPassed(c *fiber.Ctx, p account.Progress, next string) error {
	switch p.Stage {
	case account.StageDone:
		return h.completeLogin(c, p, next)
	case account.StageHeld:
		// The login cookie must outlive the wait for the email.
		h.setLoginCookie(c, loginToken(c), account.LoginConfirmationTTL)
		return c.Redirect(withNext("/login/held", next), fiber.StatusSeeOther)
	}
	return fmt.Errorf("web: second factor ended at stage %q", p.Stage)
}

// secondFactorFailed shows why a TOTP or recovery code was refused: next
// to the field for a wrong code (v carries it), at the top for a browser
// without our cookie, the 429 page for a rate limit, and the password
// form when the login expired.
func (h *handler) secondFactorFailed(c *fiber.Ctx, err error, v pages.Login2FAView) error {
	switch {
	case errors.Is(err, account.ErrLoginExpired):
		return h.loginExpired(c, v.Next)
	case errors.Is(err, account.ErrNoDeviceCookie):
		v.TOTPError, v.RecoveryError = "", ""
		v.Problem = loginErrorMessage(err)
		return h.render2FA(c, fiber.StatusBadRequest, v)
	case errors.Is(err, account.ErrTOTPInvalid), errors.Is(err, account.ErrTOTPReplayed),
		errors.Is(err, account.ErrTOTPMalformed), errors.Is(err, account.ErrRecoveryCodeInvalid):
		return h.render2FA(c, fiber.StatusUnprocessableEntity, v)
	}
	return err
}
