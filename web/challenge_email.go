package web

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// challengeEmailShow is the page behind an email challenge link. It only
// asks the question: mail scanners open links too, so the GET must not
// spend the link. Answering is the form's POST.
func (h *handler) challengeEmailShow(c *fiber.Ctx) error {
	if h.ev == nil {
		return fiber.ErrNotFound
	}
	token := c.Query("token")
	ch, err := h.ev.PeekEmailChallenge(c.UserContext(), token)
	if err != nil {
		return h.renderChallengeProblem(c, err)
	}
	return h.renderChallenge(c, fiber.StatusOK, pages.ChallengeAsk, token, ch, "")
}

// challengeEmailAnswer spends the link with the reader's answer, yes or
// no; anything else asks again.
func (h *handler) challengeEmailAnswer(c *fiber.Ctx) error {
	if h.ev == nil {
		return fiber.ErrNotFound
	}
	token, answer := c.FormValue("token"), c.FormValue(pages.ChallengeAnswerField)
	if answer != "yes" && answer != "no" {
		ch, err := h.ev.PeekEmailChallenge(c.UserContext(), token)
		if err != nil {
			return h.renderChallengeProblem(c, err)
		}
		return h.renderChallenge(c, fiber.StatusUnprocessableEntity, pages.ChallengeAsk, token, ch,
			"Choose one of the two buttons: whether you asked for this, or not.")
	}
	ch, err := h.ev.AnswerEmailChallenge(c.UserContext(), token, answer == "yes",
		desk.Origin{IP: h.clientIP(c), UserAgent: c.Get(fiber.HeaderUserAgent)})
	if err != nil {
		return h.renderChallengeProblem(c, err)
	}
	state := pages.ChallengeConfirmed
	if answer == "no" {
		state = pages.ChallengeDisavowed
	}
	return h.renderChallenge(c, fiber.StatusOK, state, "", ch, "")
}

// renderChallengeProblem explains a link that cannot be answered; other
// errors are internal.
func (h *handler) renderChallengeProblem(c *fiber.Ctx, err error) error {
	switch {
	case errors.Is(err, account.ErrTokenInvalid):
		return h.renderChallenge(c, fiber.StatusNotFound, pages.ChallengeInvalid, "", nil, "")
	case errors.Is(err, account.ErrTokenExpired):
		return h.renderChallenge(c, fiber.StatusGone, pages.ChallengeExpired, "", nil, "")
	case errors.Is(err, account.ErrTokenUsed):
		return h.renderChallenge(c, fiber.StatusGone, pages.ChallengeUsed, "", nil, "")
	}
	return fmt.Errorf("web: email challenge: %w", err)
}

// renderChallenge renders the challenge page. The link holds a secret, so
// the page stays out of caches and its address out of Referer headers.
func (h *handler) renderChallenge(c *fiber.Ctx, status int, state pages.ChallengeEmailState, token string, ch *desk.EmailChallenge, problem string) error {
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	title := "Recovery request"
	v := pages.ChallengeEmailView{State: state, Token: token, Error: problem, Action: desk.PathEmailChallenge}
	switch state {
	case pages.ChallengeInvalid:
		title = "This link is not valid"
	case pages.ChallengeExpired:
		title = "This link has expired"
	case pages.ChallengeUsed:
		title = "This link has already been used"
	}
	if ch != nil {
		v.Reference, v.Username, v.Address, v.OnAccount = ch.Reference, ch.Username, ch.Address, ch.OnAccount
		v.Expires = ch.Expires.UTC().Format("2 January 2006 at 15:04 UTC")
		if state == pages.ChallengeAsk {
			title = "Is recovery request " + ch.Reference + " yours?"
		}
	}
	v.Page = h.page(c, title)
	return render(c, status, pages.ChallengeEmail(v))
}
