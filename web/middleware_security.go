package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/helmet"
)

// contentSecurityPolicy allows our own origin only: no inline script, no
// inline style, no third-party anything, no framing, forms post only here.
const contentSecurityPolicy = "default-src 'self'; " +
	"script-src 'self'; " +
	"style-src 'self'; " +
	"img-src 'self'; " +
	"font-src 'self'; " +
	"connect-src 'self'; " +
	"object-src 'none'; " +
	"base-uri 'none'; " +
	"form-action 'self'; " +
	"frame-ancestors 'none'"

// securityHeaders sets the security headers of every response.
func (h *handler) securityHeaders() fiber.Handler {
	cfg := helmet.Config{
		ContentSecurityPolicy: contentSecurityPolicy,
		XFrameOptions:         "DENY",
		// same-origin rather than no-referrer: with no-referrer browsers
		// send "Origin: null" on our own form posts, which the CSRF
		// check must refuse. Other sites still get no referrer, so a
		// secret link never leaks through one.
		ReferrerPolicy:   "same-origin",
		PermissionPolicy: "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
	}
	if h.secure {
		cfg.HSTSMaxAge = 63072000 // two years
		cfg.HSTSExcludeSubdomains = true
	}
	return helmet.New(cfg)
}
