package web

import (
	"fmt"

	"github.com/gofiber/fiber/v2"
)

// sessionDestroy signs the browser out: the session row is revoked (so a
// copied cookie stops working too) and the cookie dropped.
func (h *handler) sessionDestroy(c *fiber.Ctx) error {
	if token := c.Cookies(SessionCookie); token != "" {
		if err := h.sessions.Revoke(c.UserContext(), token); err != nil {
			return fmt.Errorf("web: sign out: %w", err)
		}
	}
	h.clearCookie(c, SessionCookie)
	return h.redirectWithFlash(c, "/", "success", "You are signed out.")
}
