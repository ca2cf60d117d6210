package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
)

// PathJobs is where River's UI is mounted; its JSON API is under
// PathJobs + "/api/".
const PathJobs = "/admin/jobs"

// jobsContentSecurityPolicy relaxes contentSecurityPolicy for River's UI
// only: its bundled toast library writes a <style> element at run time
// and its stylesheet draws form controls with data: SVG images. Scripts
// stay same-origin only.
var jobsContentSecurityPolicy = strings.NewReplacer(
	"style-src 'self';", "style-src 'self' 'unsafe-inline';",
	"img-src 'self';", "img-src 'self' data:;",
).Replace(contentSecurityPolicy)

// adminJobs serves River's UI and its API under /admin/jobs; the route's
// middleware has already checked for an admin session with 2FA, and the
// CSRF check lets River's own same-origin API calls through
// (jobsAPISameOrigin).
func (h *handler) adminJobs(c *fiber.Ctx) error {
	if h.jobsUI == nil {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderContentSecurityPolicy, jobsContentSecurityPolicy)
	return adaptor.HTTPHandler(h.jobsUI)(c)
}
