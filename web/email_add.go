package web

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
)

// emailAdd adds an address from the security page's form, after
// re-authentication. The address stays unverified until the link mailed
// to it is opened; the account's verified addresses are told. The form
// lives on the security page, so a refusal comes back as a flash there.
func (h *handler) emailAdd(c *fiber.Ctx) error {
	if redirected, err := h.reauthBefore(c); redirected || err != nil {
		return err
	}
	s := currentSession(c)
	address := strings.TrimSpace(c.FormValue("email"))
	err := h.acct.Accounts.AddEmail(c.UserContext(), s.UserID, address, h.attempt(c))
	var fe account.FieldErrors
	switch {
	case errors.As(err, &fe):
		return h.redirectWithFlash(c, securityPath, "error", fe["email"])
	case err != nil:
		return fmt.Errorf("web: add email of user %d: %w", s.UserID, err)
	}
	return h.redirectWithFlash(c, securityPath, "success",
		"We sent a verification link to "+address+". Open it to start using the address.")
}
