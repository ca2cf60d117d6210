package web

import "github.com/gofiber/fiber/v2"

// deskStats is the desk's dashboard. Stub until its owner fills it in.
func (h *handler) deskStats(c *fiber.Ctx) error { return fiber.ErrNotFound }
