package web

import "github.com/gofiber/fiber/v2"

// Placeholders until the sign-up pages land; the owner deletes this file.

func (h *handler) registerShow(c *fiber.Ctx) error         { return fiber.ErrNotFound }
func (h *handler) registerSubmit(c *fiber.Ctx) error       { return fiber.ErrNotFound }
func (h *handler) emailVerifyShow(c *fiber.Ctx) error      { return fiber.ErrNotFound }
func (h *handler) emailVerifySubmit(c *fiber.Ctx) error    { return fiber.ErrNotFound }
func (h *handler) passwordResetShow(c *fiber.Ctx) error    { return fiber.ErrNotFound }
func (h *handler) passwordResetRequest(c *fiber.Ctx) error { return fiber.ErrNotFound }
func (h *handler) passwordResetSubmit(c *fiber.Ctx) error  { return fiber.ErrNotFound }
func (h *handler) passwordChangeShow(c *fiber.Ctx) error   { return fiber.ErrNotFound }
func (h *handler) passwordChangeSubmit(c *fiber.Ctx) error { return fiber.ErrNotFound }
