package web

import "github.com/gofiber/fiber/v2"

// deskQueue is the staff queue (issue 6: filters, sort, search, keyset
// pages). Stub until its owner fills it in.
func (h *handler) deskQueue(c *fiber.Ctx) error { return fiber.ErrNotFound }
