package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/desk"
)

// routes registers every route of the site, in the order requests meet
// them. Probes and static files come before the session and CSRF
// middleware: they need neither, and must not touch the database.
func (h *handler) routes(app *fiber.App, extra func(fiber.Router)) {
	app.Use(h.requestLog)
	app.Use(h.recoverPanic)
	app.Use(h.securityHeaders())

	app.Get("/healthz", h.healthCheck)
	app.Get("/readyz", h.readyCheck)
	app.Get("/static/*", h.staticServe)
	// Package uploads (twine): HTTP Basic with an API token, no cookies,
	// so no session and no CSRF token.
	app.Post(PathUpload, h.packageUpload)

	app.Use(h.loadSession)
	app.Use(h.ensureDevice)
	app.Use(h.checkCSRF)
	// A user whose 2FA support reset enrols a second factor first.
	app.Use(h.forceEnrolment)

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
	// The index's public read side, for anyone: a project's releases,
	// files and maintainers, and an organization's members and projects.
	app.Get("/project/:name", h.projectPublic)
	app.Get("/org/:name", h.orgPublic)
	// The link mailed to every verified address of an account whose 2FA
	// reset is scheduled: it cancels the reset without a login. The GET
	// only asks, like the challenge.
	app.Get(desk.PathResetCancel, h.resetCancelShow)
	app.Post(desk.PathResetCancel, h.resetCancelSubmit)

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
	acct.Get("/tokens", h.require2FA, h.apiTokensShow)
	acct.Post("/tokens", h.require2FA, h.apiTokenCreate)
	acct.Post("/tokens/:id/revoke", h.require2FA, h.apiTokenRevoke)

	// Projects: management pages, 2FA required.
	projects := app.Group("/projects", h.requireLogin, h.require2FA)
	projects.Get("/", h.projectsList)
	projects.Get("/:name", h.projectShow)

	// The support desk: staff (agents and administrators), 2FA required.
	// Approving a reset also needs the admin role and a session that used
	// a security key, which desk.Triage checks on the action itself.
	staff := app.Group("/desk", h.requireLogin, h.require2FA, h.requireStaff)
	staff.Get("/", h.deskQueue)
	staff.Get("/stats", h.deskStats)
	staff.Get("/cases/:ref", h.deskCaseShow)
	staff.Get("/cases/:ref/evidence", h.deskCaseEvidence)
	staff.Post("/cases/:ref/repo-challenge", h.deskRepoChallenge)
	staff.Post("/cases/:ref/reply", h.deskReply)
	staff.Post("/cases/:ref/note", h.deskNote)
	staff.Post("/cases/:ref/assign", h.deskAssign)
	staff.Post("/cases/:ref/status", h.deskStatus)
	staff.Post("/cases/:ref/tags", h.deskTags)
	staff.Post("/cases/:ref/merge", h.deskMerge)
	staff.Post("/cases/:ref/presence", h.deskPresence)
	staff.Post("/cases/:ref/approve", h.deskApprove)
	staff.Post("/cases/:ref/deny", h.deskDeny)
	staff.Post("/cases/:ref/more-info", h.deskMoreInfo)

	// Desk administration: staff with the admin role, 2FA required.
	admin := app.Group("/admin", h.requireLogin, h.require2FA, h.requireAdmin)
	admin.Get("/quarantine", h.quarantineList)
	admin.Post("/quarantine/:id/retry", h.quarantineRetry)
	admin.Post("/quarantine/:id/discard", h.quarantineDiscard)
	admin.Get("/canned-replies", h.cannedList)
	admin.Post("/canned-replies", h.cannedCreate)
	admin.Post("/canned-replies/:id", h.cannedUpdate)
	admin.Post("/canned-replies/:id/delete", h.cannedDelete)
	// River's UI: its pages and its JSON API, behind the admin checks.
	admin.All("/jobs", h.adminJobs)
	admin.All("/jobs/*", h.adminJobs)

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
