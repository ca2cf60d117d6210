package web

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/desk"
)

// enrolMessage is the banner on the 2FA setup page for someone whose 2FA
// support reset and who tried to go elsewhere first.
const enrolMessage = "Your two-factor authentication was reset by support. Set up an authenticator app or a security key before you continue."

// enrolFree are the paths a user who must enrol can still reach: the 2FA
// setup itself, what it needs (re-authentication, the security page),
// signing in and out, the probes and static files, and the pages of
// emailed links that need no sign-in (a request's status page, the
// challenge and cancel links, the dev mail reader where those links are
// read in development).
var enrolFree = []string{
	"/account/2fa/", "/account/keys/", "/account/reauth", "/account/security",
	"/logout", "/login", "/static/", "/healthz", "/readyz",
	desk.PathCaseStatus, desk.PathEmailChallenge, desk.PathResetCancel, "/dev/mail",
}

// forceEnrolment sends a signed-in user whose 2FA was reset to enrolment
// before anything else (303 with a banner). Once they have an
// authenticator app or a key, the flag is cleared and they go on. The
// flag comes with the session lookup, so other users cost no query.
func (h *handler) forceEnrolment(c *fiber.Ctx) error {
	s := currentSession(c)
	if s == nil || !s.MustEnroll2FA || enrolAllowed(c.Path()) {
		return c.Next()
	}
	due, err := h.acct.Security.EnrolmentDue(c.UserContext(), s.UserID)
	if err != nil {
		return fmt.Errorf("web: enrolment check: %w", err)
	}
	if !due {
		return c.Next()
	}
	return h.redirectWithFlash(c, enrolPath, "info", enrolMessage)
}

// enrolAllowed reports whether path stays reachable before enrolment.
func enrolAllowed(path string) bool {
	for _, p := range enrolFree {
		if path == strings.TrimSuffix(p, "/") || strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}
