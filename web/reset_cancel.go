package web

import "github.com/gofiber/fiber/v2"

// The owner's link that cancels a scheduled 2FA reset. Stubs until their
// owner fills them in.

func (h *handler) resetCancelShow(c *fiber.Ctx) error   { return fiber.ErrNotFound }
func (h *handler) resetCancelSubmit(c *fiber.Ctx) error { return fiber.ErrNotFound }
