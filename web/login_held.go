package web

import (
	"errors"
	"math"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// loginHeldShow is the waiting page of a held login. Every load asks
// whether the emailed link was opened in this browser and, once it was,
// completes the sign-in; the page reloads itself every few seconds, so it
// completes by itself without JavaScript.
func (h *handler) loginHeldShow(c *fiber.Ctx) error {
	next := nextParam(c)
	p, err := h.acct.Login.HeldStatus(c.UserContext(), loginToken(c), h.attempt(c))
	switch {
	case errors.Is(err, account.ErrLoginExpired):
		return h.loginExpired(c, next)
	case err != nil:
		return err
	case p.Stage == account.StageDone:
		return h.completeLogin(c, p, next)
	}
	return h.renderHeld(c, fiber.StatusOK, p, pages.LoginHeldView{Next: next})
}

// loginHeldStatus is the same check as JSON for a script that polls:
// {"done": false}, or {"done": true, "redirect": "/…"} with the session
// cookie set, or {"done": false, "redirect": "/login"} once the login
// expired.
func (h *handler) loginHeldStatus(c *fiber.Ctx) error {
	next := nextParam(c)
	p, err := h.acct.Login.HeldStatus(c.UserContext(), loginToken(c), h.attempt(c))
	switch {
	case errors.Is(err, account.ErrLoginExpired):
		h.clearCookie(c, LoginCookie)
		return sendJSON(c, fiber.StatusOK, heldStatus{Redirect: withNext("/login", next), Error: loginErrorMessage(err)})
	case err != nil:
		return h.sendLoginError(c, err)
	case p.Stage != account.StageDone:
		return sendJSON(c, fiber.StatusOK, heldStatus{})
	}
	to, err := h.finishLogin(c, p, next)
	if err != nil {
		return h.sendLoginError(c, err)
	}
	return sendJSON(c, fiber.StatusOK, heldStatus{Done: true, Redirect: to})
}

// heldStatus is the JSON answer of loginHeldStatus.
type heldStatus struct {
	Done     bool   `json:"done"`
	Redirect string `json:"redirect,omitempty"`
	Error    string `json:"error,omitempty"`
}

// loginHeldResend mails a fresh confirmation link, at most one per
// account.ResendInterval; sooner, the page says when it can.
func (h *handler) loginHeldResend(c *fiber.Ctx) error {
	next := nextParam(c)
	_, err := h.acct.Login.ResendHeld(c.UserContext(), loginToken(c), h.attempt(c))
	var tooSoon *account.ResendTooSoonError
	switch {
	case errors.As(err, &tooSoon):
		// Not HeldStatus: it would complete a login confirmed meanwhile,
		// and this answer sets no session cookie. The page's next reload
		// does that.
		wait := max(tooSoon.At.Sub(h.now()), 0)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return h.renderHeld(c, fiber.StatusTooManyRequests, account.Progress{Stage: account.StageHeld, ResendAt: tooSoon.At}, pages.LoginHeldView{
			Next:        next,
			ResendError: "We sent the email only recently. You can ask for another after " + tooSoon.At.UTC().Format("15:04 UTC") + ".",
		})
	case errors.Is(err, account.ErrLoginExpired):
		return h.loginExpired(c, next)
	case err != nil:
		return err
	}
	// The wait for the new link starts again; the cookie must outlive it.
	h.setLoginCookie(c, loginToken(c), account.LoginConfirmationTTL)
	return h.redirectWithFlash(c, withNext("/login/held", next), "success",
		"We sent the email again. Use the link in the new email: the earlier one no longer works.")
}

// renderHeld renders the waiting page for a login at account.StageHeld.
func (h *handler) renderHeld(c *fiber.Ctx, status int, p account.Progress, v pages.LoginHeldView) error {
	v.Page = h.page(c, "Confirm this sign-in")
	v.ResendAt = p.ResendAt
	v.SentAt = p.ResendAt.Add(-account.ResendInterval)
	v.Now = h.now()
	v.RefreshURL = withNext("/login/held", v.Next)
	return render(c, status, pages.LoginHeld(v))
}
