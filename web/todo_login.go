package web

import "github.com/gofiber/fiber/v2"

// Placeholders until the sign-in pages land; the owner deletes this file.

func (h *handler) ensureDevice(c *fiber.Ctx) error           { return c.Next() }
func (h *handler) loginShow(c *fiber.Ctx) error              { return fiber.ErrNotFound }
func (h *handler) loginSubmit(c *fiber.Ctx) error            { return fiber.ErrNotFound }
func (h *handler) loginPasskeyBegin(c *fiber.Ctx) error      { return fiber.ErrNotFound }
func (h *handler) loginPasskeyFinish(c *fiber.Ctx) error     { return fiber.ErrNotFound }
func (h *handler) login2FAShow(c *fiber.Ctx) error           { return fiber.ErrNotFound }
func (h *handler) login2FATOTP(c *fiber.Ctx) error           { return fiber.ErrNotFound }
func (h *handler) login2FARecovery(c *fiber.Ctx) error       { return fiber.ErrNotFound }
func (h *handler) login2FAWebAuthnBegin(c *fiber.Ctx) error  { return fiber.ErrNotFound }
func (h *handler) login2FAWebAuthnFinish(c *fiber.Ctx) error { return fiber.ErrNotFound }
func (h *handler) loginHeldShow(c *fiber.Ctx) error          { return fiber.ErrNotFound }
func (h *handler) loginHeldStatus(c *fiber.Ctx) error        { return fiber.ErrNotFound }
func (h *handler) loginHeldResend(c *fiber.Ctx) error        { return fiber.ErrNotFound }
func (h *handler) loginConfirmShow(c *fiber.Ctx) error       { return fiber.ErrNotFound }
func (h *handler) loginConfirmSubmit(c *fiber.Ctx) error     { return fiber.ErrNotFound }
