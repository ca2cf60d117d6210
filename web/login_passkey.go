package web

import (
	"github.com/gofiber/fiber/v2"
)

// loginPasskeyBegin starts a sign-in without a username: it answers the
// options for navigator.credentials.get and keeps the ceremony's token in
// the login cookie until the answer comes back.
func (h *handler) loginPasskeyBegin(c *fiber.Ctx) error {
	options, token, err := h.acct.Login.BeginPasskey(c.UserContext(), h.attempt(c))
	if err != nil {
		return h.sendLoginError(c, err)
	}
	h.setLoginCookie(c, token, loginCookieAge)
	return sendOptions(c, options)
}

// loginPasskeyFinish checks the passkey's answer (the request body is the
// PublicKeyCredential as JSON) and signs in as its owner.
func (h *handler) loginPasskeyFinish(c *fiber.Ctx) error {
	p, err := h.acct.Login.WithPasskey(c.UserContext(), loginToken(c), c.Body(), h.attempt(c))
	if err != nil {
		return h.sendLoginError(c, err)
	}
	to, err := h.finishLogin(c, p, nextParam(c))
	if err != nil {
		return h.sendLoginError(c, err)
	}
	return sendJSON(c, fiber.StatusOK, loginResult{Redirect: to})
}
