package web

import "github.com/gofiber/fiber/v2"

// Placeholders until the email-address pages land; the owner deletes this file.

func (h *handler) emailAdd(c *fiber.Ctx) error                { return fiber.ErrNotFound }
func (h *handler) emailMakePrimary(c *fiber.Ctx) error        { return fiber.ErrNotFound }
func (h *handler) emailRemove(c *fiber.Ctx) error             { return fiber.ErrNotFound }
func (h *handler) emailResendVerification(c *fiber.Ctx) error { return fiber.ErrNotFound }
