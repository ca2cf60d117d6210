package web

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// reauthShow asks for the password again; ?next= is where to return.
func (h *handler) reauthShow(c *fiber.Ctx) error {
	return h.renderReauth(c, reauthNext(c), "")
}

// reauthSubmit checks the password and marks the session freshly
// authenticated, then returns to next (the security page by default),
// where the person repeats what they were doing.
func (h *handler) reauthSubmit(c *fiber.Ctx) error {
	s := currentSession(c)
	next := reauthNext(c)
	err := h.acct.ConfirmPassword(c.UserContext(), s.ID, s.UserID, c.FormValue("password"), h.attempt(c))
	switch {
	case errors.Is(err, account.ErrBadCredentials):
		return h.renderReauth(c, next, "That password is not correct.")
	case err != nil:
		// A *account.RateLimitedError becomes the 429 page.
		return fmt.Errorf("web: re-authenticate user %d: %w", s.UserID, err)
	}
	return h.redirectWithFlash(c, next, "success",
		"Password confirmed. For the next 15 minutes you can change your security settings without confirming again.")
}

func (h *handler) renderReauth(c *fiber.Ctx, next, msg string) error {
	status := fiber.StatusOK
	if msg != "" {
		status = fiber.StatusUnprocessableEntity
	}
	key, err := h.reauthKeyControl(c, next)
	if err != nil {
		return err
	}
	title := "Confirm your password"
	if key != nil {
		title = "Confirm it's you"
	}
	return render(c, status, pages.Reauth(pages.ReauthView{
		Page:  h.page(c, title),
		Next:  next,
		Error: msg,
		Key:   key,
	}))
}

// reauthNext is the safe return path of the re-authentication form.
func reauthNext(c *fiber.Ctx) string {
	if n := safeNext(strings.Clone(c.FormValue("next"))); n != "" {
		return n
	}
	return securityPath
}

// reauthBefore checks that the session authenticated recently enough for
// a sensitive change on the security page; if not, it redirects to the
// re-authentication form (returning to the security page) and says so.
func (h *handler) reauthBefore(c *fiber.Ctx) (redirected bool, err error) {
	return h.reauthBeforeOn(c, securityPath, "Then repeat the change on the security page.")
}

// reauthBeforeOn is reauthBefore for a change made on the page at back,
// which the re-authentication form returns to; then says what to do
// there.
func (h *handler) reauthBeforeOn(c *fiber.Ctx, back, then string) (redirected bool, err error) {
	s := currentSession(c)
	err = h.acct.Security.RequireReauth(c.UserContext(), s.ID)
	switch {
	case errors.Is(err, account.ErrReauthRequired):
		return true, h.redirectWithFlash(c, reauthPath+"?next="+back, "info", "Confirm your password to continue. "+then)
	case err != nil:
		return false, fmt.Errorf("web: check re-authentication: %w", err)
	}
	return false, nil
}
