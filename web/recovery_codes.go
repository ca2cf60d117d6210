package web

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// recoveryCodesRegenerate replaces the user's recovery codes with a new
// set, after re-authentication, and shows the new codes this once.
func (h *handler) recoveryCodesRegenerate(c *fiber.Ctx) error {
	if redirected, err := h.reauthBefore(c); redirected || err != nil {
		return err
	}
	s := currentSession(c)
	codes, err := h.acct.Security.RegenerateRecoveryCodes(c.UserContext(), s.UserID, h.attempt(c))
	if err != nil {
		return fmt.Errorf("web: regenerate recovery codes of user %d: %w", s.UserID, err)
	}
	return render(c, fiber.StatusOK, pages.RecoveryCodes(pages.RecoveryCodesView{
		Page:  h.page(c, "Your recovery codes"),
		Intro: "New recovery codes were generated; the old ones no longer work.",
		Codes: codes,
	}))
}
