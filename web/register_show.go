package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// registerShow renders the empty sign-up form. Someone already signed in
// has an account: they go to the home page instead.
func (h *handler) registerShow(c *fiber.Ctx) error {
	if currentSession(c) != nil {
		return c.Redirect("/", fiber.StatusSeeOther)
	}
	return render(c, fiber.StatusOK, pages.Register(pages.RegisterView{Page: h.page(c, "Create an account")}))
}
