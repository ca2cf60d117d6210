package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/desk"
)

// routes registers every route of the site, in the order requests meet
// them. Probes and static files come before the session and CSRF
// middleware: they need neither, and must not touch the database.
//
// Reserved for later issues (404 until then, behind the staff and admin
// checks of their groups): /desk/stats, /admin/jobs.
func (h *handler) routes(app *fiber.App, extra func(fiber.Router)) {
	app.Use(h.requestLog)
	app.Use(h.recoverPanic)
	app.Use(h.securityHeaders())

	app.Get("/healthz", h.healthCheck)
	app.Get("/readyz", h.readyCheck)
	app.Get("/static/*", h.staticServe)

	app.Use(h.loadSession)
	app.Use(h.ensureDevice)
	app.Use(h.checkCSRF)

	app.Get("/", h.homeShow)

	// Sign-up and passwords.
	app.Get("/register", h.registerShow)
	app.Post("/register", h.registerSubmit)
	app.Get("/verify-email", h.emailVerifyShow)
	app.Post("/verify-email", h.emailVerifySubmit)
	app.Get("/password-reset", h.passwordResetShow) // the request form; with ?token= the new-password form
	app.Post("/password-reset", h.passwordResetRequest)
	app.Post("/password-reset/new", h.passwordResetSubmit)

	// Sign-in: password, then a second factor, then (TOTP or recovery
	// code from an unrecognized browser) the emailed confirmation.
	app.Get("/login", h.loginShow)
	app.Post("/login", h.loginSubmit)
	app.Post("/login/passkey/begin", h.loginPasskeyBegin)
	app.Post("/login/passkey/finish", h.loginPasskeyFinish)
	app.Get("/login/2fa", h.login2FAShow)
	app.Post("/login/2fa/totp", h.login2FATOTP)
	app.Post("/login/2fa/recovery", h.login2FARecovery)
	app.Post("/login/2fa/webauthn/begin", h.login2FAWebAuthnBegin)
	app.Post("/login/2fa/webauthn/finish", h.login2FAWebAuthnFinish)
	app.Get("/login/held", h.loginHeldShow)
	app.Get("/login/held/status", h.loginHeldStatus)
	app.Post("/login/held/resend", h.loginHeldResend)
	app.Get("/login/confirm", h.loginConfirmShow)
	app.Post("/login/confirm", h.loginConfirmSubmit)
	app.Post("/logout", h.sessionDestroy)

	// Account recovery: the public form and the requester's status page,
	// reached by its secret link (no login).
	app.Get("/recover", h.recoverShow)
	app.Post("/recover", h.recoverSubmit)
	app.Get("/case/:ref", h.caseStatusShow)
	app.Post("/case/:ref", h.caseStatusAdd)
	// The email challenge link (desk.PathEmailChallenge), opened by
	// whoever reads the mailbox: the GET only shows the question, so mail
	// scanners that follow links do not spend it.
	app.Get(desk.PathEmailChallenge, h.challengeEmailShow)
	app.Post(desk.PathEmailChallenge, h.challengeEmailAnswer)

	// The account. Signed in; the security page and 2FA setup work
	// without 2FA (that is where the 2FA requirement sends people), other
	// settings need it.
	acct := app.Group("/account", h.requireLogin)
	acct.Get("/security", h.securityShow)
	acct.Get("/reauth", h.reauthShow)
	acct.Post("/reauth", h.reauthSubmit)
	acct.Post("/reauth/webauthn/begin", h.reauthWebAuthnBegin)
	acct.Post("/reauth/webauthn/finish", h.reauthWebAuthnFinish)
	acct.Get("/2fa/totp", h.totpEnrolShow)
	acct.Post("/2fa/totp", h.totpEnrolSubmit)
	acct.Post("/2fa/totp/remove", h.totpRemove)
	acct.Post("/2fa/recovery-codes", h.recoveryCodesRegenerate)
	acct.Post("/keys/begin", h.keyRegisterBegin)
	acct.Post("/keys/finish", h.keyRegisterFinish)
	acct.Post("/keys/:id/remove", h.keyRemove)
	acct.Post("/sessions/:id/revoke", h.require2FA, h.sessionRevoke)
	acct.Post("/devices/:id/revoke", h.require2FA, h.deviceRevoke)
	acct.Post("/emails", h.require2FA, h.emailAdd)
	acct.Post("/emails/:id/primary", h.require2FA, h.emailMakePrimary)
	acct.Post("/emails/:id/remove", h.require2FA, h.emailRemove)
	acct.Post("/emails/:id/resend", h.emailResendVerification)
	acct.Get("/password", h.require2FA, h.passwordChangeShow)
	acct.Post("/password", h.require2FA, h.passwordChangeSubmit)

	// Projects: management pages, 2FA required.
	projects := app.Group("/projects", h.requireLogin, h.require2FA)
	projects.Get("/", h.projectsList)
	projects.Get("/:name", h.projectShow)

	// The support desk: staff (agents and administrators), 2FA required.
	// The case list here is a plain list until the queue replaces it.
	staff := app.Group("/desk", h.requireLogin, h.require2FA, h.requireStaff)
	staff.Get("/", h.deskCases)
	staff.Get("/cases/:ref", h.deskCaseShow)
	staff.Get("/cases/:ref/evidence", h.deskCaseEvidence)
	staff.Post("/cases/:ref/repo-challenge", h.deskRepoChallenge)

	// Desk administration: staff with the admin role, 2FA required.
	admin := app.Group("/admin", h.requireLogin, h.require2FA, h.requireAdmin)
	admin.Get("/quarantine", h.quarantineList)
	admin.Post("/quarantine/:id/retry", h.quarantineRetry)
	admin.Post("/quarantine/:id/discard", h.quarantineDiscard)

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
