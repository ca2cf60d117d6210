// Package web is the HTTP side of Recovery Desk: a Fiber app, its
// middleware, templ views and embedded static assets.
//
// How the package is laid out, so the next handler fits in:
//
//   - routes.go lists every route, in the order a request meets them:
//     request log, recover, security headers, then probes and static
//     files (no session, no database), then session and CSRF middleware,
//     then pages, then the catch-all 404.
//   - One handler per resource action, named <noun>_<verb>.go
//     (home_show.go, devmail_deliver.go), each a method on handler. A
//     handler reads top to bottom: parse, validate, call the domain,
//     then redirect (303, with a flash) or render.
//   - Every page takes one typed view model from views/pages, built by its
//     handler with h.page(c, title) for the layout part. Templates never
//     read c.Locals or call the database.
//   - render(c, status, component) is the only way HTML is written;
//     handleError (errors.go) is the only error handler. Return a
//     *fiber.Error for a status a person should see with its message;
//     anything else is a 500 that is logged once and shown without detail.
//   - Every POST form includes components.CSRF(page.CSRFToken); the CSRF
//     middleware refuses any state-changing request without a valid token.
//   - Middleware lives one per file (middleware_*.go); request-scoped
//     values are read through typed accessors (currentSession, requestID,
//     csrfToken), never raw Locals keys.
//
// Views are generated with `go tool templ generate -path web`; the
// generated *_templ.go files are committed.
package web
