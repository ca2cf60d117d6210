package web

import "github.com/gofiber/fiber/v2"

// routes registers every route of the site, in the order requests meet
// them. Probes and static files come before the session and CSRF
// middleware: they need neither, and must not touch the database.
//
// Reserved for later issues (404 until then): /login, /register,
// /account/security, /recover, /desk, /desk/stats, /admin/jobs.
func (h *handler) routes(app *fiber.App, extra func(fiber.Router)) {
	app.Use(h.requestLog)
	app.Use(h.recoverPanic)
	app.Use(h.securityHeaders())

	app.Get("/healthz", h.healthCheck)
	app.Get("/readyz", h.readyCheck)
	app.Get("/static/*", h.staticServe)

	app.Use(h.loadSession)
	app.Use(h.checkCSRF)

	app.Get("/", h.homeShow)
	app.Post("/logout", h.sessionDestroy)

	if h.dev != nil {
		app.Get("/dev/mail", h.devMailList)
		app.Post("/dev/mail", h.devMailDeliver)
		app.Get("/dev/mail/:id", h.devMailShow)
	}

	if extra != nil {
		extra(app)
	}

	// Anything not matched above, whatever the method, is a 404 page.
	app.Use(h.notFound)
}
