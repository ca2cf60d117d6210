package web

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// projectShow renders one of the user's projects: members, releases with
// their files, and the upload history. A project the user has no role in
// is a 404, whether or not it exists.
func (h *handler) projectShow(c *fiber.Ctx) error {
	s := currentSession(c)
	name, err := url.PathUnescape(c.Params("name"))
	if err != nil {
		return fiber.ErrNotFound
	}
	p, err := h.acct.ProjectDetail(c.UserContext(), name, s.UserID)
	switch {
	case errors.Is(err, account.ErrNotFound):
		return fiber.ErrNotFound
	case err != nil:
		return fmt.Errorf("web: project %q for user %d: %w", name, s.UserID, err)
	}
	v := pages.ProjectView{
		Page:          h.page(c, p.Name),
		Name:          p.Name,
		Description:   p.Description,
		RepositoryURL: p.RepositoryURL,
		Created:       p.Created,
		Organization:  p.Organization,
		Role:          p.Role,
		Since:         p.Since,
		Uploads:       projectFiles(p.Uploads),
	}
	for _, m := range p.Members {
		v.Members = append(v.Members, pages.ProjectMemberItem{Username: m.Username, Role: m.Role, Since: m.Since})
	}
	for _, r := range p.Releases {
		v.Releases = append(v.Releases, pages.ProjectRelease{Version: r.Version, Created: r.Created, Files: projectFiles(r.Files)})
	}
	return render(c, fiber.StatusOK, pages.Project(v))
}

func projectFiles(files []account.FileInfo) []pages.ProjectFile {
	out := make([]pages.ProjectFile, len(files))
	for i, f := range files {
		out[i] = pages.ProjectFile{
			Version: f.Version, Filename: f.Filename, PackageType: f.PackageType, Size: f.Size,
			UploadedAt: f.UploadedAt, Uploader: f.Uploader, Token: f.Token, IP: f.IP,
		}
	}
	return out
}
