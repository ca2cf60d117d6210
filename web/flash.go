package web

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/web/views/components"
)

// FlashCookie carries a one-time message across a redirect.
const FlashCookie = "rd_flash"

// flashTTL is short: the message belongs to the very next page.
const flashTTL = 2 * time.Minute

// flashPayload is the signed content of the flash cookie.
type flashPayload struct {
	Kind    string `json:"k"`
	Message string `json:"m"`
	Expires int64  `json:"e"`
}

// redirectWithFlash sets a flash message and redirects with 303, so the
// browser follows with a GET and a reload does not post again.
func (h *handler) redirectWithFlash(c *fiber.Ctx, to, kind, message string) error {
	if err := h.setFlash(c, kind, message); err != nil {
		return err
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}

// setFlash sets a flash message for the next page, for answers that are
// not redirects (a JSON answer the script follows).
func (h *handler) setFlash(c *fiber.Ctx, kind, message string) error {
	p, err := json.Marshal(flashPayload{Kind: kind, Message: message, Expires: h.now().Add(flashTTL).Unix()})
	if err != nil {
		return fmt.Errorf("web: encode flash: %w", err)
	}
	body := base64.RawURLEncoding.EncodeToString(p)
	h.setCookie(c, FlashCookie, body+"."+h.flash.tag(body), flashTTL)
	return nil
}

// takeFlashes returns the flash message sent with this request, if it is
// authentic and fresh, and deletes the cookie so it shows only once.
func (h *handler) takeFlashes(c *fiber.Ctx) []components.Flash {
	raw := c.Cookies(FlashCookie)
	if raw == "" {
		return nil
	}
	h.clearCookie(c, FlashCookie)
	body, tag, ok := strings.Cut(raw, ".")
	if !ok || !h.flash.valid(tag, body) {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return nil
	}
	var p flashPayload
	if err := json.Unmarshal(b, &p); err != nil || h.now().Unix() > p.Expires {
		return nil
	}
	return []components.Flash{{Kind: p.Kind, Message: p.Message}}
}
