package web

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// orgPublic renders an organization's public page, signed in or not: its
// members with role and since when, and its projects. An unknown name is
// a 404.
func (h *handler) orgPublic(c *fiber.Ctx) error {
	name, err := url.PathUnescape(c.Params("name"))
	if err != nil {
		return fiber.ErrNotFound
	}
	o, err := h.acct.PublicOrganization(c.UserContext(), name)
	switch {
	case errors.Is(err, account.ErrNotFound):
		return fiber.ErrNotFound
	case err != nil:
		return fmt.Errorf("web: organization %q: %w", name, err)
	}
	v := pages.OrgPublicView{
		Page:         h.page(c, o.Name),
		Name:         o.Name,
		Created:      o.Created,
		MemberCount:  o.MemberCount,
		ProjectCount: o.ProjectCount,
	}
	for _, m := range o.Members {
		v.Members = append(v.Members, pages.OrgMember{Username: m.Username, Role: m.Role, Since: m.Since})
	}
	for _, p := range o.Projects {
		v.Projects = append(v.Projects, pages.OrgProject{Name: p.Name, Description: p.Description})
	}
	return render(c, fiber.StatusOK, pages.OrgPublic(v))
}
