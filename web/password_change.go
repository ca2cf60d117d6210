package web

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// passwordChangePath is this page, where re-authentication returns to.
const passwordChangePath = "/account/password"

// passwordChangeShow renders the change-password form to someone who
// authenticated within the last minutes; anyone else confirms their
// password first and comes back.
func (h *handler) passwordChangeShow(c *fiber.Ctx) error {
	if redirected, err := h.reauthFirst(c); redirected || err != nil {
		return err
	}
	return h.renderPasswordChange(c, nil)
}

// passwordChangeSubmit sets the new password. The account layer signs
// out every session and forgets every trusted browser, and starts a new
// session for this browser, whose cookie replaces the old one.
func (h *handler) passwordChangeSubmit(c *fiber.Ctx) error {
	if redirected, err := h.reauthFirst(c); redirected || err != nil {
		return err
	}
	password := c.FormValue("password")
	if msg := passwordMismatch(password, c.FormValue("password_confirm")); msg != "" {
		return h.renderPasswordChange(c, map[string]string{"password_confirm": msg})
	}
	s := currentSession(c)
	token, err := h.acct.Accounts.ChangePassword(c.UserContext(), s.UserID, password, s.AuthMethods, h.attempt(c))
	var fields account.FieldErrors
	switch {
	case errors.As(err, &fields):
		return h.renderPasswordChange(c, fields)
	case err != nil:
		return fmt.Errorf("web: change password of user %d: %w", s.UserID, err)
	}
	h.setCookie(c, SessionCookie, token, account.DefaultSessionPolicy.Lifetime)
	return h.redirectWithFlash(c, securityPath, "success",
		"Password changed. You were signed out everywhere else, and your trusted browsers must be confirmed again.")
}

// reauthFirst sends the person to confirm their password when the session
// has not authenticated recently; redirected says the response is done.
func (h *handler) reauthFirst(c *fiber.Ctx) (redirected bool, err error) {
	s := currentSession(c)
	if s == nil {
		// requireLogin runs before this page; reaching here signed out
		// would be a routing mistake, not the person's.
		return false, errors.New("web: password change without a session")
	}
	err = h.acct.Security.RequireReauth(c.UserContext(), s.ID)
	switch {
	case errors.Is(err, account.ErrReauthRequired):
		return true, c.Redirect(reauthPath+"?next="+passwordChangePath, fiber.StatusSeeOther)
	case err != nil:
		return false, fmt.Errorf("web: check re-authentication: %w", err)
	}
	return false, nil
}

func (h *handler) renderPasswordChange(c *fiber.Ctx, errs map[string]string) error {
	return render(c, fiber.StatusOK, pages.PasswordChange(pages.PasswordChangeView{
		Page:   h.page(c, "Change your password"),
		Errors: errs,
	}))
}
