package web

import "github.com/gofiber/fiber/v2"

// The WebAuthn endpoints answer webauthn.js in JSON: the options to pass
// to navigator.credentials, then {"redirect"} or {"error"}.

// sendOptions sends the WebAuthn options JSON produced by account as is.
func sendOptions(c *fiber.Ctx, options []byte) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Status(fiber.StatusOK).Send(options)
}

// sendJSON sends a JSON answer; never cached, it carries state.
func sendJSON(c *fiber.Ctx, status int, v any) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).JSON(v)
}
