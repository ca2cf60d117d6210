package web

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
)

// Cookies of sign-in.
const (
	// DeviceCookie holds the browser's long-lived random device token. A
	// held login can only be confirmed from the browser holding the same
	// token, and a confirmed browser is trusted by it.
	DeviceCookie = "rd_device"
	// LoginCookie holds the token of a half-finished login (password done,
	// second factor or email confirmation due; or a passkey ceremony). It
	// never authenticates a request on its own.
	LoginCookie = "rd_login"
)

// loginCookieAge bounds the second-factor step; a held login's cookie is
// re-set to last as long as its emailed link (account.LoginConfirmationTTL).
const loginCookieAge = 10 * time.Minute

// attempt describes the browser making this request for the login state
// machine: its address, its User-Agent and its device token (the one
// ensureDevice set on this very response if the browser had none).
func (h *handler) attempt(c *fiber.Ctx) account.Attempt {
	return account.Attempt{
		IP:          h.clientIP(c),
		UserAgent:   strings.Clone(c.Get(fiber.HeaderUserAgent)),
		DeviceToken: deviceToken(c),
	}
}

// loginToken is the half-finished login token of this browser, "" if none.
func loginToken(c *fiber.Ctx) string {
	return strings.Clone(c.Cookies(LoginCookie))
}

// setLoginCookie stores the half-finished login token for maxAge.
func (h *handler) setLoginCookie(c *fiber.Ctx, token string, maxAge time.Duration) {
	h.setCookie(c, LoginCookie, token, maxAge)
}
