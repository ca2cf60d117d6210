package web

import "github.com/gofiber/fiber/v2"

// Case actions of staff. Stubs until their owner fills them in.

func (h *handler) deskReply(c *fiber.Ctx) error    { return fiber.ErrNotFound }
func (h *handler) deskNote(c *fiber.Ctx) error     { return fiber.ErrNotFound }
func (h *handler) deskAssign(c *fiber.Ctx) error   { return fiber.ErrNotFound }
func (h *handler) deskStatus(c *fiber.Ctx) error   { return fiber.ErrNotFound }
func (h *handler) deskTags(c *fiber.Ctx) error     { return fiber.ErrNotFound }
func (h *handler) deskMerge(c *fiber.Ctx) error    { return fiber.ErrNotFound }
func (h *handler) deskPresence(c *fiber.Ctx) error { return fiber.ErrNotFound }
