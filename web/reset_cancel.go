package web

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// The owner's link that cancels a scheduled 2FA reset, with no sign-in.
// The GET only shows what is scheduled (mail scanners open links too);
// the form's POST cancels.

// resetCancelShow shows what the link would cancel.
func (h *handler) resetCancelShow(c *fiber.Ctx) error {
	if h.tr == nil {
		return fiber.ErrNotFound
	}
	token := c.Query("token")
	r, err := h.tr.PeekResetCancel(c.UserContext(), token)
	if err != nil {
		return h.renderResetCancelProblem(c, err)
	}
	return h.renderResetCancel(c, fiber.StatusOK, pages.ResetCancelAsk, token, r)
}

// resetCancelSubmit spends the link and cancels the reset.
func (h *handler) resetCancelSubmit(c *fiber.Ctx) error {
	if h.tr == nil {
		return fiber.ErrNotFound
	}
	r, err := h.tr.CancelReset(c.UserContext(), c.FormValue("token"),
		desk.Origin{IP: h.clientIP(c), UserAgent: c.Get(fiber.HeaderUserAgent)})
	if err != nil {
		return h.renderResetCancelProblem(c, err)
	}
	return h.renderResetCancel(c, fiber.StatusOK, pages.ResetCancelDone, "", r)
}

// renderResetCancelProblem explains a link that cannot cancel; other
// errors are internal.
func (h *handler) renderResetCancelProblem(c *fiber.Ctx, err error) error {
	switch {
	case errors.Is(err, account.ErrTokenInvalid):
		return h.renderResetCancel(c, fiber.StatusNotFound, pages.ResetCancelInvalid, "", nil)
	case errors.Is(err, account.ErrTokenExpired):
		return h.renderResetCancel(c, fiber.StatusGone, pages.ResetCancelExpired, "", nil)
	case errors.Is(err, account.ErrTokenUsed):
		return h.renderResetCancel(c, fiber.StatusGone, pages.ResetCancelUsed, "", nil)
	}
	return fmt.Errorf("web: reset cancel link: %w", err)
}

// renderResetCancel renders the page. The link holds a secret, so the
// page keeps its address out of Referer headers.
func (h *handler) renderResetCancel(c *fiber.Ctx, status int, state pages.ResetCancelState, token string, r *desk.ResetCancel) error {
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	titles := map[pages.ResetCancelState]string{
		pages.ResetCancelAsk:     "Cancel the 2FA reset",
		pages.ResetCancelDone:    "The reset is cancelled",
		pages.ResetCancelInvalid: "This link is not valid",
		pages.ResetCancelExpired: "This link has expired",
		pages.ResetCancelUsed:    "This reset was already cancelled",
	}
	v := pages.ResetCancelView{State: state, Action: desk.PathResetCancel, Token: token}
	if r != nil {
		v.Username = r.Username
		v.When = r.ScheduledFor.UTC().Format(desk.WhenLayout)
	}
	v.Page = h.page(c, titles[state])
	return render(c, status, pages.ResetCancel(v))
}
