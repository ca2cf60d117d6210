package web

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// projectPublic renders a project's public page, signed in or not: its
// releases and files, maintainers and organization. An unknown name is a
// 404.
func (h *handler) projectPublic(c *fiber.Ctx) error {
	name, err := url.PathUnescape(c.Params("name"))
	if err != nil {
		return fiber.ErrNotFound
	}
	p, err := h.acct.PublicProjectPage(c.UserContext(), name)
	switch {
	case errors.Is(err, account.ErrNotFound):
		return fiber.ErrNotFound
	case err != nil:
		return fmt.Errorf("web: public project %q: %w", name, err)
	}
	v := pages.ProjectPublicView{
		Page:          h.page(c, p.Name),
		Name:          p.Name,
		Description:   p.Description,
		RepositoryURL: p.RepositoryURL,
		Created:       p.Created,
		Organization:  p.Organization,
		ReleaseCount:  p.ReleaseCount,
	}
	for _, m := range p.Maintainers {
		v.Maintainers = append(v.Maintainers, pages.PublicMaintainer{Username: m.Username, Role: m.Role})
	}
	for _, r := range p.Releases {
		rel := pages.PublicRelease{Version: r.Version, Created: r.Created}
		for _, f := range r.Files {
			rel.Files = append(rel.Files, pages.PublicFile{
				Filename: f.Filename, PackageType: f.PackageType, PythonVersion: f.PythonVersion,
				Size: f.Size, SHA256: f.SHA256, UploadedAt: f.UploadedAt, Uploader: f.Uploader, ViaToken: f.ViaToken,
			})
		}
		v.Releases = append(v.Releases, rel)
	}
	return render(c, fiber.StatusOK, pages.ProjectPublic(v))
}
