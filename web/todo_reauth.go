package web

import "github.com/gofiber/fiber/v2"

// Placeholders until WebAuthn re-authentication lands; the owner deletes this file.

func (h *handler) reauthWebAuthnBegin(c *fiber.Ctx) error  { return fiber.ErrNotFound }
func (h *handler) reauthWebAuthnFinish(c *fiber.Ctx) error { return fiber.ErrNotFound }
