package web

import "github.com/gofiber/fiber/v2"

// adminJobs serves River's UI under /admin/jobs. Stub until its owner
// fills it in.
func (h *handler) adminJobs(c *fiber.Ctx) error { return fiber.ErrNotFound }
