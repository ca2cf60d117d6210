package web

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// projectsList lists the projects the user owns or maintains.
func (h *handler) projectsList(c *fiber.Ctx) error {
	s := currentSession(c)
	rows, err := h.acct.ListProjects(c.UserContext(), s.UserID)
	if err != nil {
		return fmt.Errorf("web: projects of user %d: %w", s.UserID, err)
	}
	v := pages.ProjectsView{Page: h.page(c, "Your projects")}
	for _, r := range rows {
		v.Projects = append(v.Projects, pages.ProjectListItem{
			Name: r.Name, Description: r.Description, Role: r.Role, Since: r.Since,
			Releases: r.Releases, LastUpload: r.LastUpload,
		})
	}
	return render(c, fiber.StatusOK, pages.Projects(v))
}
