package web

import "github.com/gofiber/fiber/v2"

// Staff roles of a session (account.Session.StaffRole).
const (
	staffRoleAdmin = "admin"
	staffRoleAgent = "agent"
)

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

// requireStaff lets through support staff (agents and administrators);
// it runs after requireLogin and require2FA. Like requireAdmin it says
// who the page is for rather than pretending it does not exist.
func (h *handler) requireStaff(c *fiber.Ctx) error {
	s := currentSession(c)
	if s == nil {
		return h.requireLogin(c)
	}
	if s.StaffRole != staffRoleAgent && s.StaffRole != staffRoleAdmin {
		return fiber.NewError(fiber.StatusForbidden, "This page is for support staff.")
	}
	return c.Next()
}
