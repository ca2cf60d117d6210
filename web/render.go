package web

import (
	"bytes"
	"fmt"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/web/views/layout"
)

// render writes a templ component as the HTML response. It renders into
// a buffer first, so a failing template yields a clean error page rather
// than half a page.
func render(c *fiber.Ctx, status int, component templ.Component) error {
	var buf bytes.Buffer
	if err := component.Render(c.UserContext(), &buf); err != nil {
		return fmt.Errorf("web: render %s: %w", c.Path(), err)
	}
	// Pages carry CSRF tokens and personal data: never store them in a
	// shared or on-disk cache.
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(status).Send(buf.Bytes())
}

// page builds what the layout needs for this request: the site name, who
// is signed in, the CSRF token for forms, assets, and the flash message of
// a preceding redirect (which is consumed here, so it shows once).
func (h *handler) page(c *fiber.Ctx, title string) layout.Page {
	p := layout.Page{
		Title:     title,
		SiteName:  h.cfg.SiteName,
		CSRFToken: h.csrfToken(c),
		Flashes:   h.takeFlashes(c),
		Assets: layout.Assets{
			CSS: h.assets.url("app.css"),
			JS:  h.assets.url("app.js"),
		},
	}
	if s := currentSession(c); s != nil {
		p.User = &layout.User{Username: s.Username, DisplayName: s.DisplayName}
	}
	return p
}
