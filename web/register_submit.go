package web

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// registerSubmit creates the account and sends the verification link.
// Refused input re-renders the form with every error next to its field
// and the username and address kept (never the passwords); success
// redirects home with a flash naming the address the link went to.
func (h *handler) registerSubmit(c *fiber.Ctx) error {
	if currentSession(c) != nil {
		return c.Redirect("/", fiber.StatusSeeOther)
	}
	v := pages.RegisterView{
		Username: strings.TrimSpace(c.FormValue("username")),
		Email:    strings.TrimSpace(c.FormValue("email")),
	}
	password := c.FormValue("password")
	// A mismatch is checked first: creating an account with a password
	// the person may have mistyped would lock them out of it.
	if msg := passwordMismatch(password, c.FormValue("password_confirm")); msg != "" {
		v.Errors = map[string]string{"password_confirm": msg}
		return h.renderRegister(c, v)
	}

	_, err := h.acct.Accounts.Register(c.UserContext(), account.Registration{
		Username: v.Username,
		Email:    v.Email,
		Password: password,
	}, h.attempt(c))
	var fields account.FieldErrors
	switch {
	case errors.As(err, &fields):
		v.Errors = fields
		return h.renderRegister(c, v)
	case err != nil:
		return fmt.Errorf("web: register %q: %w", v.Username, err)
	}
	return h.redirectWithFlash(c, "/", "success", fmt.Sprintf(
		"Your account is created. We sent a link to %s to verify your address; it expires in %s.",
		v.Email, linkLifetime(account.EmailVerificationTTL)))
}

func (h *handler) renderRegister(c *fiber.Ctx, v pages.RegisterView) error {
	v.Page = h.page(c, "Create an account")
	return render(c, fiber.StatusOK, pages.Register(v))
}

// passwordMismatch is the message for the "again" field when the two
// typed passwords differ, or "" when they match.
func passwordMismatch(password, again string) string {
	switch {
	case again == "" && password != "":
		return "Type the password again, to make sure it is what you meant."
	case again != password:
		return "The two passwords are different. Type the same password in both fields."
	}
	return ""
}

// linkLifetime says how long an emailed link works, in whole hours ("6
// hours", "1 hour") or else minutes.
func linkLifetime(d time.Duration) string {
	if d >= time.Hour && d%time.Hour == 0 {
		if n := int(d / time.Hour); n != 1 {
			return strconv.Itoa(n) + " hours"
		}
		return "1 hour"
	}
	return strconv.Itoa(int(d/time.Minute)) + " minutes"
}
