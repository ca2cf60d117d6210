package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// Re-authentication with a security key talks JSON with
// static/webauthn.js (the "login" ceremony): begin answers the options,
// finish takes the PublicKeyCredential and answers {"redirect": next} or
// {"error": "…"}. The ceremony state is kept in the session row, like a
// key registration's (account.Services.BeginReauthWebAuthn).

// reauthKeyControl is the security-key control of the re-authentication
// page, nil when the person has no key to confirm with.
func (h *handler) reauthKeyControl(c *fiber.Ctx, next string) (*pages.ReauthKey, error) {
	s := currentSession(c)
	keys, err := h.acct.WebAuthn.ListKeys(c.UserContext(), s.UserID)
	if err != nil {
		return nil, fmt.Errorf("web: re-authentication page of user %d: %w", s.UserID, err)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	return &pages.ReauthKey{
		Begin:      "/account/reauth/webauthn/begin",
		Finish:     "/account/reauth/webauthn/finish?next=" + url.QueryEscape(next),
		WebAuthnJS: h.assets.url("webauthn.js"),
	}, nil
}

// reauthWebAuthnBegin starts confirming the signed-in person with one of
// their keys and answers the options for navigator.credentials.get.
func (h *handler) reauthWebAuthnBegin(c *fiber.Ctx) error {
	s := currentSession(c)
	options, err := h.acct.BeginReauthWebAuthn(c.UserContext(), s.ID, s.UserID)
	if errors.Is(err, account.ErrKeyNotFound) {
		// The page offers keys only to those with one; one was removed meanwhile.
		return sendJSON(c, fiber.StatusBadRequest, loginResult{Error: "There is no security key on your account. Confirm with your password instead."})
	}
	if err != nil {
		return h.sendReauthKeyError(c, fmt.Errorf("web: begin key re-authentication of user %d: %w", s.UserID, err))
	}
	return sendOptions(c, options)
}

// reauthWebAuthnFinish checks the browser's answer (the body is the
// PublicKeyCredential as JSON), marks the session freshly authenticated
// and sends the browser back to next with a flash message.
func (h *handler) reauthWebAuthnFinish(c *fiber.Ctx) error {
	s := currentSession(c)
	if !json.Valid(c.Body()) {
		return sendJSON(c, fiber.StatusBadRequest, loginResult{Error: "The browser's answer was incomplete. Please try again."})
	}
	err := h.acct.FinishReauthWebAuthn(c.UserContext(), s.ID, s.UserID, c.Body(), h.attempt(c))
	if err != nil {
		return h.sendReauthKeyError(c, fmt.Errorf("web: finish key re-authentication of user %d: %w", s.UserID, err))
	}
	if err := h.setFlash(c, "success",
		"Confirmed with your security key. For the next 15 minutes you can change your security settings without confirming again."); err != nil {
		return h.sendLoginError(c, err)
	}
	return sendJSON(c, fiber.StatusOK, loginResult{Redirect: reauthNext(c)})
}

// sendReauthKeyError answers a failed key re-authentication: what the
// person can act on with 400 (they can always use their password), a rate
// limit with 429, anything else a logged 500 (sendLoginError).
func (h *handler) sendReauthKeyError(c *fiber.Ctx, err error) error {
	var msg string
	switch {
	case errors.Is(err, account.ErrKeyNotFound):
		msg = "This key is not registered to your account. Use another key, or confirm with your password."
	case errors.Is(err, account.ErrCeremonyExpired):
		msg = "The security key request expired. Please try again."
	case errors.Is(err, account.ErrKeyCloned):
		msg = "This security key's signature counter did not advance, so the key may have been copied. Confirm with your password, then check your keys on the security page."
	case errors.Is(err, account.ErrWebAuthnFailed):
		msg = "The security key could not be verified. Please try again, or confirm with your password."
	}
	if msg != "" {
		return sendJSON(c, fiber.StatusBadRequest, loginResult{Error: msg})
	}
	return h.sendLoginError(c, err)
}
