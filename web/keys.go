package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
)

// Adding a security key talks JSON with static/webauthn.js, like the
// sign-in ceremonies: options on begin, then
// {"redirect": "/account/security"} on success or {"error": "…"} with a
// 4xx/5xx status. A refusal that a page can fix also carries "redirect"
// (re-authentication) or "field": "name" (the key name).
//
// The ceremony state is kept server-side in the session row's data (see
// account.Services.BeginKeyRegistration), not in a signed cookie: a
// cookie can be replayed until it expires, while the row lets finishing
// use the state up, and it dies with the session.

// keyResult is the JSON answer of the key endpoints.
type keyResult struct {
	Redirect string `json:"redirect,omitempty"`
	Error    string `json:"error,omitempty"`
	Field    string `json:"field,omitempty"`
}

// keyFinishRequest is what webauthn.js posts to finish: the key's name
// and the PublicKeyCredential as JSON.
type keyFinishRequest struct {
	Name       string          `json:"name"`
	Credential json.RawMessage `json:"credential"`
}

// keyRegisterBegin starts adding a key; the body may carry the name the
// person chose ({"name": …}), refused here before they touch their key.
// A new key (a passkey especially) is a new way into the account, so it
// needs a recent authentication, like removing one; the security page
// offers the control only then.
func (h *handler) keyRegisterBegin(c *fiber.Ctx) error {
	s := currentSession(c)
	if err := h.acct.Security.RequireReauth(c.UserContext(), s.ID); err != nil {
		if errors.Is(err, account.ErrReauthRequired) {
			return sendJSON(c, fiber.StatusForbidden, keyResult{
				Error:    "More than 15 minutes have passed since you confirmed your password. Reload the page to confirm it again.",
				Redirect: reauthPath + "?next=" + securityPath,
			})
		}
		return h.sendKeyError(c, fmt.Errorf("web: check re-authentication: %w", err))
	}
	var req struct {
		Name *string `json:"name"`
	}
	if len(c.Body()) > 0 && json.Unmarshal(c.Body(), &req) == nil && req.Name != nil {
		if msg := keyNameError(h.acct.CheckKeyName(c.UserContext(), s.UserID, *req.Name)); msg != "" {
			return sendJSON(c, fiber.StatusUnprocessableEntity, keyResult{Error: msg, Field: "name"})
		}
	}
	options, err := h.acct.BeginKeyRegistration(c.UserContext(), s.ID, s.UserID)
	if err != nil {
		return h.sendKeyError(c, fmt.Errorf("web: begin key registration of user %d: %w", s.UserID, err))
	}
	return sendOptions(c, options)
}

// keyRegisterFinish verifies the new key and stores it under its name.
func (h *handler) keyRegisterFinish(c *fiber.Ctx) error {
	s := currentSession(c)
	var req keyFinishRequest
	if err := json.Unmarshal(c.Body(), &req); err != nil || len(req.Credential) == 0 {
		return sendJSON(c, fiber.StatusBadRequest, keyResult{Error: "The browser's answer was incomplete. Please try again."})
	}
	_, err := h.acct.FinishKeyRegistration(c.UserContext(), s.ID, s.UserID, req.Name, req.Credential, h.attempt(c))
	if msg := keyNameError(err); msg != "" {
		return sendJSON(c, fiber.StatusUnprocessableEntity, keyResult{Error: msg, Field: "name"})
	}
	switch {
	case errors.Is(err, account.ErrKeyAlreadyRegistered):
		return sendJSON(c, fiber.StatusBadRequest, keyResult{Error: "This security key is already registered to your account."})
	case err != nil:
		return h.sendKeyError(c, fmt.Errorf("web: finish key registration of user %d: %w", s.UserID, err))
	}
	// A new second factor is a privilege change: new session token.
	if err := h.rotateSessionToken(c); err != nil {
		return h.sendKeyError(c, err)
	}
	return sendJSON(c, fiber.StatusOK, keyResult{Redirect: securityPath})
}

// keyNameError is the message for a refused key name, "" for other errors.
func keyNameError(err error) string {
	switch {
	case errors.Is(err, account.ErrKeyNameInvalid):
		return "Give the key a name of 1 to 64 characters, without tabs or line breaks."
	case errors.Is(err, account.ErrKeyNameTaken):
		return "You already have a key with this name. Choose another name."
	}
	return ""
}

// keyRemove removes a security key or passkey, after re-authentication
// and never the last second factor.
func (h *handler) keyRemove(c *fiber.Ctx) error {
	id, err := c.ParamsInt("id")
	if err != nil || id <= 0 {
		return fiber.ErrNotFound
	}
	if redirected, err := h.reauthBefore(c); redirected || err != nil {
		return err
	}
	s := currentSession(c)
	err = h.acct.RemoveKey(c.UserContext(), s.UserID, id, h.attempt(c))
	switch {
	case errors.Is(err, account.ErrLastSecondFactor):
		return h.redirectWithFlash(c, securityPath, "error",
			"This key is your only second factor, so it cannot be removed. Set up an authenticator app or another key first.")
	case errors.Is(err, account.ErrKeyNotFound):
		return h.redirectWithFlash(c, securityPath, "info", "That key was already removed.")
	case err != nil:
		return fmt.Errorf("web: remove key %d of user %d: %w", id, s.UserID, err)
	}
	return h.redirectWithFlash(c, securityPath, "success", "The key was removed. It can no longer be used to sign in.")
}

// sendKeyError answers a failed key request: a person's message with 400
// for what they can retry, else a logged 500.
func (h *handler) sendKeyError(c *fiber.Ctx, err error) error {
	var msg string
	switch {
	case errors.Is(err, account.ErrCeremonyExpired):
		msg = "The security key request expired. Please try again."
	case errors.Is(err, account.ErrWebAuthnFailed):
		msg = "The security key could not be verified. Please try again."
	}
	if msg != "" {
		return sendJSON(c, fiber.StatusBadRequest, keyResult{Error: msg})
	}
	h.log.ErrorContext(c.UserContext(), "request failed",
		slog.String("request_id", requestID(c)),
		slog.String("method", c.Method()),
		slog.String("path", c.Path()),
		slog.Any("err", err))
	return sendJSON(c, fiber.StatusInternalServerError, keyResult{
		Error: "Something went wrong on our side. Please try again in a moment (reference " + requestID(c) + ").",
	})
}
