package web

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// login2FAShow asks for the second factor of the half-finished login in
// this browser's login cookie, offering the factors the user has.
func (h *handler) login2FAShow(c *fiber.Ctx) error {
	return h.render2FA(c, fiber.StatusOK, pages.Login2FAView{Next: nextParam(c)})
}

// render2FA renders the second-factor page for this browser's
// half-finished login with v's errors. A login that expired (or never
// was) starts again at the password; a held one goes to its waiting page.
func (h *handler) render2FA(c *fiber.Ctx, status int, v pages.Login2FAView) error {
	p, err := h.acct.Login.Pending(c.UserContext(), loginToken(c))
	if errors.Is(err, account.ErrLoginExpired) {
		return h.loginExpired(c, v.Next)
	}
	if err != nil {
		return err
	}
	if p.Stage == account.StageHeld {
		return c.Redirect(withNext("/login/held", v.Next), fiber.StatusSeeOther)
	}
	v.Page = h.page(c, "Two-factor authentication")
	v.TOTP = p.Factors.TOTP
	v.Keys = p.Factors.WebAuthn
	v.HasRecovery = p.Factors.HasRecovery
	v.WebAuthnBegin = "/login/2fa/webauthn/begin"
	v.WebAuthnFinish = withNext("/login/2fa/webauthn/finish", v.Next)
	v.WebAuthnJS = h.assets.url("webauthn.js")
	return render(c, status, pages.Login2FA(v))
}

// loginExpired sends a browser whose half-finished login is gone back to
// the password form, saying why. A signed-in browser (another tab
// finished the login) goes on instead.
func (h *handler) loginExpired(c *fiber.Ctx, next string) error {
	h.clearCookie(c, LoginCookie)
	if currentSession(c) != nil {
		if next == "" {
			next = "/"
		}
		return c.Redirect(next, fiber.StatusSeeOther)
	}
	return h.redirectWithFlash(c, withNext("/login", next), "error",
		"Your sign-in expired before it was finished. Please sign in again.")
}
