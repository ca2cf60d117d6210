package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// homeShow renders the home page.
func (h *handler) homeShow(c *fiber.Ctx) error {
	return render(c, fiber.StatusOK, pages.Home(pages.HomeView{Page: h.page(c, "")}))
}
