package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// loginShow renders the sign-in form. A signed-in person has nothing to
// do here and goes on to where they were headed.
func (h *handler) loginShow(c *fiber.Ctx) error {
	next := nextParam(c)
	if currentSession(c) != nil {
		if next == "" {
			next = "/"
		}
		return c.Redirect(next, fiber.StatusSeeOther)
	}
	return h.renderLogin(c, fiber.StatusOK, pages.LoginView{Next: next})
}

// renderLogin renders the sign-in form with v's values and errors.
func (h *handler) renderLogin(c *fiber.Ctx, status int, v pages.LoginView) error {
	v.Page = h.page(c, "Log in")
	v.PasskeyBegin = "/login/passkey/begin"
	v.PasskeyFinish = withNext("/login/passkey/finish", v.Next)
	v.WebAuthnJS = h.assets.url("webauthn.js")
	return render(c, status, pages.Login(v))
}
