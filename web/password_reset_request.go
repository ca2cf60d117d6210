package web

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// passwordResetRequest mails a reset link if the username or address
// names an account, and answers the same either way, so the form cannot
// be used to find out who has an account. Too many requests get the 429
// page (the account layer's limit).
func (h *handler) passwordResetRequest(c *fiber.Ctx) error {
	who := strings.TrimSpace(c.FormValue("who"))
	err := h.acct.Accounts.RequestPasswordReset(c.UserContext(), who, h.attempt(c))
	var fields account.FieldErrors
	switch {
	case errors.As(err, &fields):
		return render(c, fiber.StatusOK, pages.PasswordResetRequest(pages.PasswordResetRequestView{
			Page:    h.page(c, "Reset your password"),
			Who:     who,
			Errors:  fields,
			Expires: linkLifetime(account.PasswordResetTTL),
		}))
	case err != nil:
		// A *account.RateLimitedError stays visible through the
		// wrapping: the error handler answers it with 429.
		return fmt.Errorf("web: request password reset: %w", err)
	}
	// Redirect rather than render, so a reload does not send another mail.
	return c.Redirect("/password-reset?sent=1", fiber.StatusSeeOther)
}
