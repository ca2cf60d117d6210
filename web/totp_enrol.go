package web

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// totpEnrolShow shows the QR code and secret of the user's pending
// authenticator app setup, starting one if there is none. Showing the
// page again (a reload, a mistyped code) keeps the same secret, so an app
// that already scanned it keeps working.
func (h *handler) totpEnrolShow(c *fiber.Ctx) error {
	s := currentSession(c)
	secret, err := h.acct.TOTP.PendingSecret(c.UserContext(), s.UserID)
	if errors.Is(err, account.ErrTOTPEnrolmentNotStarted) {
		secret, err = h.acct.TOTP.StartEnrolment(c.UserContext(), s.UserID)
	}
	switch {
	case errors.Is(err, account.ErrTOTPAlreadyEnrolled):
		return h.redirectWithFlash(c, securityPath, "info",
			"An authenticator app is already set up. To use another one, remove it first.")
	case err != nil:
		return fmt.Errorf("web: start TOTP setup of user %d: %w", s.UserID, err)
	}
	return h.renderTOTPEnrol(c, fiber.StatusOK, secret, "")
}

// totpEnrolSubmit confirms the setup with the first code. The user now
// has 2FA: recovery codes are generated and shown once (unless unused
// ones exist already), and the session gets a new token.
func (h *handler) totpEnrolSubmit(c *fiber.Ctx) error {
	s := currentSession(c)
	ctx := c.UserContext()
	at := h.attempt(c)
	err := h.acct.ConfirmTOTPEnrolment(ctx, s.UserID, strings.Clone(c.FormValue("code")), at)
	if msg := totpCodeError(err); msg != "" {
		secret, serr := h.acct.TOTP.PendingSecret(ctx, s.UserID)
		if serr != nil {
			return fmt.Errorf("web: reload TOTP setup of user %d: %w", s.UserID, serr)
		}
		return h.renderTOTPEnrol(c, fiber.StatusUnprocessableEntity, secret, msg)
	}
	switch {
	case errors.Is(err, account.ErrTOTPEnrolmentNotStarted):
		return h.redirectWithFlash(c, totpSetupPath, "error",
			"This setup was cancelled or restarted, perhaps in another tab. Scan the QR code below, then enter a new code.")
	case errors.Is(err, account.ErrTOTPAlreadyEnrolled):
		return h.redirectWithFlash(c, securityPath, "info", "Your authenticator app is already set up.")
	case err != nil:
		return fmt.Errorf("web: confirm TOTP of user %d: %w", s.UserID, err)
	}
	if err := h.rotateSessionToken(c); err != nil {
		return err
	}
	factors, err := h.acct.Security.SecondFactors(ctx, s.UserID)
	if err != nil {
		return fmt.Errorf("web: factors of user %d: %w", s.UserID, err)
	}
	if factors.HasRecovery {
		return h.redirectWithFlash(c, securityPath, "success",
			"Your authenticator app is set up. Your existing recovery codes still work.")
	}
	codes, err := h.acct.Security.RegenerateRecoveryCodes(ctx, s.UserID, at)
	if err != nil {
		return fmt.Errorf("web: first recovery codes of user %d: %w", s.UserID, err)
	}
	return render(c, fiber.StatusOK, pages.RecoveryCodes(pages.RecoveryCodesView{
		Page:  h.page(c, "Your recovery codes"),
		Intro: "Your authenticator app is set up: signing in now asks for its code. If you ever lose it, a recovery code gets you in.",
		Codes: codes,
	}))
}

// totpCodeError is the message next to the code field, "" when err is not
// about the code typed.
func totpCodeError(err error) string {
	switch {
	case errors.Is(err, account.ErrTOTPMalformed):
		return "Enter the 6-digit code from your authenticator app."
	case errors.Is(err, account.ErrTOTPInvalid):
		return "That code is not correct. Check that the app's clock is right and enter the code it shows now."
	case errors.Is(err, account.ErrTOTPReplayed):
		return "That code was already used. Wait for the app to show the next code, then enter it."
	}
	return ""
}

func (h *handler) renderTOTPEnrol(c *fiber.Ctx, status int, secret []byte, codeError string) error {
	s := currentSession(c)
	svg, err := account.QRCodeSVG(account.TOTPKeyURI(h.cfg.SiteName, s.Username, secret))
	if err != nil {
		return fmt.Errorf("web: TOTP QR code: %w", err)
	}
	// The SVG has no size of its own and the CSP allows no inline style:
	// size it with attributes, and name it for screen readers.
	svg = strings.Replace(svg, "<svg ", `<svg width="240" height="240" role="img" aria-labelledby="totp-qr-caption" `, 1)
	return render(c, status, pages.TOTPEnrol(pages.TOTPEnrolView{
		Page:      h.page(c, "Set up an authenticator app"),
		QRCodeSVG: svg,
		Secret:    account.FormatTOTPSecret(secret),
		Account:   s.Username,
		CodeError: codeError,
	}))
}
