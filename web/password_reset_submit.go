package web

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// passwordResetSubmit saves the new password of a reset link. The account
// layer spends the link and signs the account out everywhere; the person
// then logs in with the new password.
func (h *handler) passwordResetSubmit(c *fiber.Ctx) error {
	token := c.FormValue("token")
	password := c.FormValue("password")
	if msg := passwordMismatch(password, c.FormValue("password_confirm")); msg != "" {
		// A dead link says so before the person fixes their typing for
		// nothing.
		if err := h.acct.Accounts.CheckResetToken(c.UserContext(), token); err != nil {
			if linkError(err) {
				return h.renderResetLinkProblem(c, err)
			}
			return fmt.Errorf("web: check reset link: %w", err)
		}
		return h.renderResetNew(c, token, map[string]string{"password_confirm": msg})
	}

	err := h.acct.Accounts.ResetPassword(c.UserContext(), token, password, h.attempt(c))
	var fields account.FieldErrors
	switch {
	case errors.As(err, &fields):
		return h.renderResetNew(c, token, fields)
	case linkError(err):
		return h.renderResetLinkProblem(c, err)
	case err != nil:
		return fmt.Errorf("web: reset password: %w", err)
	}
	return h.redirectWithFlash(c, "/login", "success",
		"Your password is changed, and every browser signed in to your account was signed out. Log in with the new password.")
}

func (h *handler) renderResetNew(c *fiber.Ctx, token string, errs map[string]string) error {
	return render(c, fiber.StatusOK, pages.PasswordResetNew(pages.PasswordResetNewView{
		Page:   h.page(c, "Choose a new password"),
		Token:  token,
		Errors: errs,
	}))
}
