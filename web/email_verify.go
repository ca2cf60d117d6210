package web

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// emailVerifyShow is the page a verification link opens. It only shows a
// button: the token is spent by the POST, so mail scanners that fetch
// every link in a message do not use it up. A link that cannot be used
// (checked without spending it) shows why at once, not after the button.
func (h *handler) emailVerifyShow(c *fiber.Ctx) error {
	token := c.Query("token")
	err := h.acct.Accounts.CheckVerificationToken(c.UserContext(), token)
	if linkError(err) {
		return h.renderVerifyProblem(c, err)
	}
	if err != nil {
		return fmt.Errorf("web: check verification link: %w", err)
	}
	return render(c, fiber.StatusOK, pages.VerifyEmail(pages.VerifyEmailView{
		Page:  h.page(c, "Verify your email address"),
		Token: token,
	}))
}

// emailVerifySubmit spends the token and marks the address verified.
func (h *handler) emailVerifySubmit(c *fiber.Ctx) error {
	_, err := h.acct.Accounts.VerifyEmail(c.UserContext(), c.FormValue("token"), h.attempt(c))
	if linkError(err) {
		return h.renderVerifyProblem(c, err)
	}
	if err != nil {
		return fmt.Errorf("web: verify email: %w", err)
	}
	to, msg := "/login", "Your email address is verified. You can log in now."
	if currentSession(c) != nil {
		to, msg = "/", "Your email address is verified."
	}
	return h.redirectWithFlash(c, to, "success", msg)
}

func (h *handler) renderVerifyProblem(c *fiber.Ctx, err error) error {
	p, status := linkProblem(err, "Verification links work for "+linkLifetime(account.EmailVerificationTTL)+".")
	if p.Kind == "used" {
		p.Message = "This address was verified with it already, so there is nothing more to do: you can log in."
	}
	return render(c, status, pages.VerifyEmail(pages.VerifyEmailView{
		Page:           h.page(c, p.Heading),
		Problem:        p,
		SupportAddress: h.cfg.SupportAddress,
	}))
}

// linkError reports whether err says an emailed link cannot be used, as
// opposed to a failure of ours.
func linkError(err error) bool {
	return errors.Is(err, account.ErrTokenInvalid) || errors.Is(err, account.ErrTokenExpired) ||
		errors.Is(err, account.ErrTokenUsed) || errors.Is(err, account.ErrEmailTaken)
}

// linkProblem words why an emailed link cannot be used, with the status
// of its page; lifetime is a sentence saying how long such links work.
func linkProblem(err error, lifetime string) (*pages.LinkProblem, int) {
	switch {
	case errors.Is(err, account.ErrTokenExpired):
		return &pages.LinkProblem{Kind: "expired", Heading: "This link has expired",
			Message: lifetime + " This one is too old, or a newer link replaced it."}, fiber.StatusGone
	case errors.Is(err, account.ErrTokenUsed):
		return &pages.LinkProblem{Kind: "used", Heading: "This link has already been used",
			Message: "Each link works once, and this one has been used."}, fiber.StatusGone
	case errors.Is(err, account.ErrEmailTaken):
		return &pages.LinkProblem{Kind: "taken", Heading: "This address belongs to another account",
			Message: "Another account verified this email address before you did, so it cannot be added to yours."}, fiber.StatusConflict
	}
	return &pages.LinkProblem{Kind: "invalid", Heading: "This link is not valid",
		Message: "Check that you opened the whole link from the email: a link that is cut short or changed does not work."}, fiber.StatusBadRequest
}
