package web

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// loginConfirmShow is the page behind the link of the unrecognized-login
// email. Opening it changes nothing (mail scanners open links too); its
// button posts the token to loginConfirmSubmit.
func (h *handler) loginConfirmShow(c *fiber.Ctx) error {
	token := strings.TrimSpace(c.Query("token"))
	if token == "" {
		return h.renderConfirm(c, fiber.StatusNotFound, pages.ConfirmInvalid, "")
	}
	return h.renderConfirm(c, fiber.StatusOK, pages.ConfirmAsk, token)
}

// loginConfirmSubmit confirms the held login, which only works in the
// browser that started it. That browser's waiting login is then completed
// here at once; without one (the link was opened in another tab of the
// browser, whose login cookie has gone), the page says to return to the
// tab that waits, which completes by itself.
func (h *handler) loginConfirmSubmit(c *fiber.Ctx) error {
	token := strings.TrimSpace(c.FormValue("token"))
	err := h.acct.Login.ConfirmHeld(c.UserContext(), token, h.attempt(c))
	switch {
	case errors.Is(err, account.ErrWrongBrowser):
		return h.renderConfirm(c, fiber.StatusForbidden, pages.ConfirmWrongBrowser, "")
	case errors.Is(err, account.ErrTokenExpired):
		return h.renderConfirm(c, fiber.StatusGone, pages.ConfirmExpired, "")
	case errors.Is(err, account.ErrTokenUsed):
		return h.renderConfirm(c, fiber.StatusConflict, pages.ConfirmUsed, "")
	case errors.Is(err, account.ErrTokenInvalid):
		return h.renderConfirm(c, fiber.StatusNotFound, pages.ConfirmInvalid, "")
	case err != nil:
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
	return h.renderConfirm(c, fiber.StatusOK, pages.ConfirmDone, "")
}

// renderConfirm renders the confirmation page in one of its states.
func (h *handler) renderConfirm(c *fiber.Ctx, status int, state pages.ConfirmState, token string) error {
	titles := map[pages.ConfirmState]string{
		pages.ConfirmAsk:          "Confirm this sign-in",
		pages.ConfirmDone:         "Sign-in confirmed",
		pages.ConfirmWrongBrowser: "Wrong browser",
		pages.ConfirmExpired:      "Link expired",
		pages.ConfirmUsed:         "Link already used",
		pages.ConfirmInvalid:      "Link not valid",
	}
	return render(c, status, pages.LoginConfirm(pages.LoginConfirmView{
		Page:    h.page(c, titles[state]),
		State:   state,
		Token:   token,
		Browser: account.SummarizeUserAgent(c.Get(fiber.HeaderUserAgent)),
	}))
}
