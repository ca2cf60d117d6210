package web

import "github.com/gofiber/fiber/v2"

// staffRoleAdmin is the staff role of desk administrators.
const staffRoleAdmin = "admin"

// requireAdmin lets through desk administrators only; it runs after
// requireLogin and require2FA. Anyone else gets a 403 page saying who the
// page is for: the path itself is no secret.
func (h *handler) requireAdmin(c *fiber.Ctx) error {
	s := currentSession(c)
	if s == nil {
		return h.requireLogin(c)
	}
	if s.StaffRole != staffRoleAdmin {
		return fiber.NewError(fiber.StatusForbidden, "This page is for desk administrators.")
	}
	return c.Next()
}
