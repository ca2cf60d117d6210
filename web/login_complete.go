package web

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
)

// enrolPath is where a login lands when the user must set up 2FA first
// (after a 2FA reset).
const enrolPath = "/account/2fa/totp"

// finishLogin signs the browser in with a login at account.StageDone and
// returns where to send it: the session cookie is set (the session of
// whoever was signed in here before is ended, so each sign-in gets a fresh
// session), the half-finished login cookie dropped and the device cookie
// renewed.
func (h *handler) finishLogin(c *fiber.Ctx, p account.Progress, next string) (string, error) {
	if p.Stage != account.StageDone {
		return "", fmt.Errorf("web: finish login at stage %q", p.Stage)
	}
	// An empty token means another tab of this browser completed the same
	// login first and already holds the session cookie.
	if p.SessionToken != "" {
		if old := c.Cookies(SessionCookie); old != "" && old != p.SessionToken {
			if err := h.sessions.Revoke(c.UserContext(), old); err != nil {
				return "", fmt.Errorf("web: end previous session: %w", err)
			}
		}
		h.setCookie(c, SessionCookie, p.SessionToken, account.DefaultSessionPolicy.Lifetime)
	}
	h.clearCookie(c, LoginCookie)
	h.refreshDevice(c)
	if p.MustEnroll2FA {
		return enrolPath, nil
	}
	if n := safeNext(next); n != "" {
		return n, nil
	}
	return "/", nil
}

// completeLogin finishes the login and redirects (303) to where it leads.
func (h *handler) completeLogin(c *fiber.Ctx, p account.Progress, next string) error {
	to, err := h.finishLogin(c, p, next)
	if err != nil {
		return err
	}
	if to == enrolPath {
		return h.redirectWithFlash(c, to, "info",
			"Your two-factor authentication was reset. Set up an authenticator app to keep using your account.")
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}

// safeNext returns next when it is a path on this site, else "". Only
// "/…" qualifies: "//host" and "/\host" are read by browsers as another
// host, and control characters or whitespace have no business in a path
// we redirect to.
func safeNext(next string) string {
	if len(next) == 0 || len(next) > 2048 || next[0] != '/' {
		return ""
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return ""
	}
	for _, r := range next {
		if r <= ' ' || r == 0x7f || r == '\\' {
			return ""
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	return next
}

// withNext appends a safe next to a sign-in path, so it survives the
// steps of the login.
func withNext(path, next string) string {
	next = safeNext(next)
	if next == "" {
		return path
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "next=" + url.QueryEscape(next)
}

// nextParam is the requested destination after sign-in, from the form or
// the query string.
func nextParam(c *fiber.Ctx) string {
	return safeNext(strings.Clone(c.FormValue("next")))
}
