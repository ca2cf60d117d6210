package web

import (
	"slices"

	"github.com/gofiber/fiber/v2"
)

// Staff roles of a session (account.Session.StaffRole).
const (
	staffRoleAdmin = "admin"
	staffRoleAgent = "agent"
)

// requireAdmin lets through desk administrators only; it runs after
// requireLogin and require2FA. Anyone else gets a 403 page saying who the
// page is for: the path itself is no secret.
func (h *handler) requireAdmin(c *fiber.Ctx) error {
	return h.requireRole(c, "This page is for desk administrators.", staffRoleAdmin)
}

// requireStaff lets through support staff (agents and administrators);
// it runs after requireLogin and require2FA. Like requireAdmin it says
// who the page is for rather than pretending it does not exist.
func (h *handler) requireStaff(c *fiber.Ctx) error {
	return h.requireRole(c, "This page is for support staff.", staffRoleAgent, staffRoleAdmin)
}

// requireRole lets through sessions with one of roles; others get a 403
// saying who the page is for (refusal).
func (h *handler) requireRole(c *fiber.Ctx, refusal string, roles ...string) error {
	s := currentSession(c)
	if s == nil {
		return h.requireLogin(c)
	}
	if !slices.Contains(roles, s.StaffRole) {
		return fiber.NewError(fiber.StatusForbidden, refusal)
	}
	return c.Next()
}
