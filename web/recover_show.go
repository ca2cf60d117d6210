package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// recoverShow renders the empty account-recovery form. It needs no login:
// the people who use it cannot log in.
func (h *handler) recoverShow(c *fiber.Ctx) error {
	if h.desk == nil {
		return fiber.ErrNotFound
	}
	return render(c, fiber.StatusOK, pages.Recover(pages.RecoverView{Page: h.page(c, "Recover your account")}))
}
