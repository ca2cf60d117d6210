package web

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// projectsList lists the projects the user owns or maintains, and the
// organizations they are a member of.
func (h *handler) projectsList(c *fiber.Ctx) error {
	s := currentSession(c)
	rows, err := h.acct.ListProjects(c.UserContext(), s.UserID)
	if err != nil {
		return fmt.Errorf("web: projects of user %d: %w", s.UserID, err)
	}
	orgs, err := h.acct.ListOrganizations(c.UserContext(), s.UserID)
	if err != nil {
		return fmt.Errorf("web: organizations of user %d: %w", s.UserID, err)
	}
	v := pages.ProjectsView{Page: h.page(c, "Your projects")}
	for _, r := range rows {
		v.Projects = append(v.Projects, pages.ProjectListItem{
			Name: r.Name, Description: r.Description, Organization: r.Organization, Role: r.Role, Since: r.Since,
			Releases: r.Releases, LastUpload: r.LastUpload,
		})
	}
	for _, o := range orgs {
		v.Organizations = append(v.Organizations, pages.OrganizationListItem{
			Name: o.Name, Role: o.Role, Since: o.Since, Projects: o.Projects,
		})
	}
	return render(c, fiber.StatusOK, pages.Projects(v))
}
