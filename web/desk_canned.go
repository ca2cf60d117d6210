package web

import "github.com/gofiber/fiber/v2"

// Canned replies, managed by admins. Stubs until their owner fills them in.

func (h *handler) cannedList(c *fiber.Ctx) error   { return fiber.ErrNotFound }
func (h *handler) cannedCreate(c *fiber.Ctx) error { return fiber.ErrNotFound }
func (h *handler) cannedUpdate(c *fiber.Ctx) error { return fiber.ErrNotFound }
func (h *handler) cannedDelete(c *fiber.Ctx) error { return fiber.ErrNotFound }
