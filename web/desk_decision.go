package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// Decisions on a case. Stubs until their owner fills them in.

func (h *handler) deskApprove(c *fiber.Ctx) error  { return fiber.ErrNotFound }
func (h *handler) deskDeny(c *fiber.Ctx) error     { return fiber.ErrNotFound }
func (h *handler) deskMoreInfo(c *fiber.Ctx) error { return fiber.ErrNotFound }

// decisionView is the case page's decision panel for case f.
func (h *handler) decisionView(c *fiber.Ctx, f *desk.CaseFile) pages.DeskDecisionView {
	return pages.DeskDecisionView{Reference: f.Reference}
}
