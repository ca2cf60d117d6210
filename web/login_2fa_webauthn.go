package web

import (
	"github.com/gofiber/fiber/v2"
)

// login2FAWebAuthnBegin starts the security-key ceremony of the
// half-finished login and answers the options for
// navigator.credentials.get ({"publicKey": …}, binary fields base64url).
func (h *handler) login2FAWebAuthnBegin(c *fiber.Ctx) error {
	options, err := h.acct.Login.BeginWebAuthn(c.UserContext(), loginToken(c))
	if err != nil {
		return h.sendLoginError(c, err)
	}
	return sendOptions(c, options)
}

// login2FAWebAuthnFinish checks the browser's answer (the request body is
// the PublicKeyCredential as JSON) and signs in: a security key is
// phishing-resistant, so the login is never held for email confirmation.
func (h *handler) login2FAWebAuthnFinish(c *fiber.Ctx) error {
	p, err := h.acct.Login.WithWebAuthn(c.UserContext(), loginToken(c), c.Body(), h.attempt(c))
	if err != nil {
		return h.sendLoginError(c, err)
	}
	to, err := h.finishLogin(c, p, nextParam(c))
	if err != nil {
		return h.sendLoginError(c, err)
	}
	return sendJSON(c, fiber.StatusOK, loginResult{Redirect: to})
}
