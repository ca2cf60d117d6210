package web

import (
	"errors"
	"log/slog"
	"math"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
)

// The WebAuthn ceremonies and the held-login poll talk JSON to
// static/webauthn.js. Their answers are {"redirect": "/…"} on success and
// {"error": "…"} (a sentence for the person) with a 4xx or 5xx status.

// loginResult is the JSON answer of a sign-in endpoint.
type loginResult struct {
	Redirect string `json:"redirect,omitempty"`
	Error    string `json:"error,omitempty"`
}

// sendLoginError answers a JSON sign-in request that failed: a person's
// message with 400 for what they can fix or retry, 429 with Retry-After
// for a rate limit, and a logged 500 for anything else.
func (h *handler) sendLoginError(c *fiber.Ctx, err error) error {
	var limited *account.RateLimitedError
	if errors.As(err, &limited) {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(limited.RetryAfter.Seconds()))))
		return sendJSON(c, fiber.StatusTooManyRequests, loginResult{Error: limited.Message()})
	}
	if msg := loginErrorMessage(err); msg != "" {
		return sendJSON(c, fiber.StatusBadRequest, loginResult{Error: msg})
	}
	h.log.ErrorContext(c.UserContext(), "request failed",
		slog.String("request_id", requestID(c)),
		slog.String("method", c.Method()),
		slog.String("path", c.Path()),
		slog.Any("err", err))
	return sendJSON(c, fiber.StatusInternalServerError, loginResult{
		Error: "Something went wrong on our side. Please try again in a moment (reference " + requestID(c) + ").",
	})
}

// loginErrorMessage is what a person reads for an error of the login
// state machine, "" for an internal error.
func loginErrorMessage(err error) string {
	switch {
	case errors.Is(err, account.ErrBadCredentials):
		return "The username or password is not correct."
	case errors.Is(err, account.ErrAccountDisabled):
		return "This account is locked. Use account recovery or contact support to get back in."
	case errors.Is(err, account.ErrLoginExpired):
		return "Your sign-in expired before it was finished. Please sign in again."
	case errors.Is(err, account.ErrNoDeviceCookie):
		return "Your browser did not keep our cookie, so we cannot recognise it when you confirm this sign-in. Allow cookies for this site and sign in again."
	case errors.Is(err, account.ErrTOTPMalformed):
		return "Enter the 6-digit code from your authenticator app."
	case errors.Is(err, account.ErrTOTPInvalid):
		return "That code is not correct. Enter the code your authenticator app shows now."
	case errors.Is(err, account.ErrTOTPReplayed):
		return "That code was already used. Wait for your authenticator app to show the next code, then enter it."
	case errors.Is(err, account.ErrRecoveryCodeInvalid):
		return "That recovery code is not valid or was already used. Each code works once."
	case errors.Is(err, account.ErrCeremonyExpired):
		return "The security key request expired. Please try again."
	case errors.Is(err, account.ErrKeyCloned):
		return "This security key's signature counter did not advance, so the key may have been copied. Use another way to sign in, then check your keys on the security page."
	case errors.Is(err, account.ErrKeyNotFound):
		return "This key is not registered here. Use another key or another way to sign in."
	case errors.Is(err, account.ErrWebAuthnFailed):
		return "The security key could not be verified. Please try again, or use another way to sign in."
	}
	return ""
}
