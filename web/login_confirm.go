package web

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// loginConfirmShow is the page behind the link of the unrecognized-login
// email. Opening it changes nothing (mail scanners open links too): it
// shows when, where from and in which browser the sign-in was made, so
// the person recognises it, or says at once why the link cannot be used.
// Its button posts the token to loginConfirmSubmit.
func (h *handler) loginConfirmShow(c *fiber.Ctx) error {
	token := strings.TrimSpace(c.Query("token"))
	facts, err := h.acct.Login.HeldFacts(c.UserContext(), token)
	if state, status, ok := confirmProblem(err); ok {
		return h.renderConfirm(c, status, state, "", nil)
	}
	if err != nil {
		return err
	}
	return h.renderConfirm(c, fiber.StatusOK, pages.ConfirmAsk, token, &facts)
}

// loginConfirmSubmit confirms the held login, which only works in the
// browser that started it. That browser's waiting login is then completed
// here at once; without one (the link was opened in another tab of the
// browser, whose login cookie has gone), the page says to return to the
// tab that waits, which completes by itself.
func (h *handler) loginConfirmSubmit(c *fiber.Ctx) error {
	token := strings.TrimSpace(c.FormValue("token"))
	err := h.acct.Login.ConfirmHeld(c.UserContext(), token, h.attempt(c))
	if errors.Is(err, account.ErrWrongBrowser) {
		return h.renderConfirm(c, fiber.StatusForbidden, pages.ConfirmWrongBrowser, "", nil)
	}
	if state, status, ok := confirmProblem(err); ok {
		return h.renderConfirm(c, status, state, "", nil)
	}
	if err != nil {
		return err
	}

	if pending := loginToken(c); pending != "" {
		p, err := h.acct.Login.HeldStatus(c.UserContext(), pending, h.attempt(c))
		switch {
		case err == nil && p.Stage == account.StageDone:
			return h.completeLogin(c, p, "")
		case err != nil && !errors.Is(err, account.ErrLoginExpired):
			return err
		}
	}
	return h.renderConfirm(c, fiber.StatusOK, pages.ConfirmDone, "", nil)
}

// confirmProblem is the page state and status of a confirmation link that
// cannot be used; ok is false for other errors (and nil).
func confirmProblem(err error) (state pages.ConfirmState, status int, ok bool) {
	switch {
	case errors.Is(err, account.ErrTokenExpired):
		return pages.ConfirmExpired, fiber.StatusGone, true
	case errors.Is(err, account.ErrTokenUsed):
		return pages.ConfirmUsed, fiber.StatusConflict, true
	case errors.Is(err, account.ErrTokenInvalid):
		return pages.ConfirmInvalid, fiber.StatusNotFound, true
	}
	return "", 0, false
}

// renderConfirm renders the confirmation page in one of its states; facts
// describe the held sign-in (the ask state only).
func (h *handler) renderConfirm(c *fiber.Ctx, status int, state pages.ConfirmState, token string, facts *account.HeldFacts) error {
	titles := map[pages.ConfirmState]string{
		pages.ConfirmAsk:          "Confirm this sign-in",
		pages.ConfirmDone:         "Sign-in confirmed",
		pages.ConfirmWrongBrowser: "Wrong browser",
		pages.ConfirmExpired:      "Link expired",
		pages.ConfirmUsed:         "Link already used",
		pages.ConfirmInvalid:      "Link not valid",
	}
	v := pages.LoginConfirmView{
		Page:    h.page(c, titles[state]),
		State:   state,
		Token:   token,
		Browser: account.SummarizeUserAgent(c.Get(fiber.HeaderUserAgent)),
	}
	if facts != nil {
		v.Held = &pages.HeldSignIn{At: facts.At, IP: facts.IP, Device: facts.Device}
	}
	return render(c, status, pages.LoginConfirm(v))
}
