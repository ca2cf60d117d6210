package web

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// loginSubmit checks the username and password. Without 2FA the browser
// is signed in; with it, the half-finished login goes into its own cookie
// and the second-factor page follows.
func (h *handler) loginSubmit(c *fiber.Ctx) error {
	v := pages.LoginView{
		Username: strings.TrimSpace(c.FormValue("username")),
		Next:     nextParam(c),
	}
	password := c.FormValue("password")
	v.Errors = map[string]string{}
	if v.Username == "" {
		v.Errors["username"] = "Enter your username."
	}
	if password == "" {
		v.Errors["password"] = "Enter your password."
	}
	if len(v.Errors) > 0 {
		return h.renderLogin(c, fiber.StatusUnprocessableEntity, v)
	}

	p, err := h.acct.Login.WithPassword(c.UserContext(), v.Username, password, h.attempt(c))
	switch {
	case errors.Is(err, account.ErrBadCredentials):
		v.Problem = loginErrorMessage(err)
		return h.renderLogin(c, fiber.StatusUnprocessableEntity, v)
	case errors.Is(err, account.ErrAccountDisabled):
		v.Locked = true
		return h.renderLogin(c, fiber.StatusForbidden, v)
	case err != nil:
		return err // a *account.RateLimitedError is the 429 page
	}

	switch p.Stage {
	case account.StageDone:
		return h.completeLogin(c, p, v.Next)
	case account.StageSecondFactor:
		h.setLoginCookie(c, p.PendingToken, loginCookieAge)
		return c.Redirect(withNext("/login/2fa", v.Next), fiber.StatusSeeOther)
	}
	return fmt.Errorf("web: password login ended at stage %q", p.Stage)
}
