package web

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// passwordResetShow serves /password-reset: the request form; with
// ?sent=1 the answer every request gets; with ?token= (the emailed link)
// the new-password form, once the link is checked, or why it cannot be
// used and a way to ask for another.
func (h *handler) passwordResetShow(c *fiber.Ctx) error {
	if c.Query("token") != "" {
		return h.passwordResetNewShow(c)
	}
	return render(c, fiber.StatusOK, pages.PasswordResetRequest(pages.PasswordResetRequestView{
		Page:    h.page(c, "Reset your password"),
		Sent:    c.Query("sent") == "1",
		Expires: linkLifetime(account.PasswordResetTTL),
	}))
}

// passwordResetNewShow checks the link without spending it (that happens
// when the new password is saved) and shows the form.
func (h *handler) passwordResetNewShow(c *fiber.Ctx) error {
	token := c.Query("token")
	err := h.acct.Accounts.CheckResetToken(c.UserContext(), token)
	if linkError(err) {
		return h.renderResetLinkProblem(c, err)
	}
	if err != nil {
		return fmt.Errorf("web: check reset link: %w", err)
	}
	return render(c, fiber.StatusOK, pages.PasswordResetNew(pages.PasswordResetNewView{
		Page:  h.page(c, "Choose a new password"),
		Token: token,
	}))
}

func (h *handler) renderResetLinkProblem(c *fiber.Ctx, err error) error {
	p, status := linkProblem(err, "Reset links work for "+linkLifetime(account.PasswordResetTTL)+".")
	return render(c, status, pages.PasswordResetNew(pages.PasswordResetNewView{
		Page:    h.page(c, p.Heading),
		Problem: p,
	}))
}
