package web

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// recoverSubmit opens a recovery case. Refused input re-renders the form
// with each error next to its field and everything typed kept; success
// shows the reference and the status link. A filled honeypot gets the same
// success page without a link, so a bot cannot tell it was dropped.
func (h *handler) recoverSubmit(c *fiber.Ctx) error {
	if h.desk == nil {
		return fiber.ErrNotFound
	}
	v := pages.RecoverView{
		Username:             c.FormValue("username"),
		ContactEmail:         c.FormValue("contact_email"),
		Name:                 c.FormValue("name"),
		Explanation:          c.FormValue("explanation"),
		ClaimedProjects:      c.FormValue("claimed_projects"),
		ClaimedOrganizations: c.FormValue("claimed_organizations"),
		HasPassword:          c.FormValue("has_password") != "",
		HasEmailAccess:       c.FormValue("has_email_access") != "",
		HasRecoveryCodes:     c.FormValue("has_recovery_codes") != "",
		HasDevice:            c.FormValue("has_device") != "",
		AccountCreated:       c.FormValue("account_created"),
		LastUpload:           c.FormValue("last_upload"),
		PreviousEmails:       c.FormValue("previous_emails"),
		TwoFactorMethod:      c.FormValue("two_factor_method"),
	}
	got, err := h.desk.Submit(c.UserContext(), desk.RecoveryForm{
		Username:             v.Username,
		ContactEmail:         v.ContactEmail,
		Name:                 v.Name,
		HasPassword:          v.HasPassword,
		HasEmailAccess:       v.HasEmailAccess,
		HasRecoveryCodes:     v.HasRecoveryCodes,
		HasDevice:            v.HasDevice,
		Explanation:          v.Explanation,
		ClaimedProjects:      v.ClaimedProjects,
		ClaimedOrganizations: v.ClaimedOrganizations,
		AccountCreated:       v.AccountCreated,
		LastUpload:           v.LastUpload,
		PreviousEmails:       v.PreviousEmails,
		TwoFactorMethod:      v.TwoFactorMethod,
		Honeypot:             c.FormValue(pages.RecoverHoneypotField),
	}, desk.Origin{IP: h.clientIP(c), UserAgent: c.Get(fiber.HeaderUserAgent)})
	var fields desk.FieldErrors
	switch {
	case errors.As(err, &fields):
		v.Errors = fields
		v.Page = h.page(c, "Recover your account")
		return render(c, fiber.StatusUnprocessableEntity, pages.Recover(v))
	case errors.Is(err, desk.ErrSpam):
		h.log.InfoContext(c.UserContext(), "recovery form honeypot filled; dropped", "request_id", requestID(c))
		return h.renderRecoverSent(c, pages.RecoverView{Sent: true})
	case err != nil:
		return fmt.Errorf("web: recovery request: %w", err)
	}
	return h.renderRecoverSent(c, pages.RecoverView{Sent: true, Reference: got.Reference, StatusURL: got.StatusURL})
}

// renderRecoverSent shows the answer page. It holds the secret link, so
// no cache keeps it and no referrer carries the page's address elsewhere.
func (h *handler) renderRecoverSent(c *fiber.Ctx, v pages.RecoverView) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	v.Page = h.page(c, "We received your request")
	return render(c, fiber.StatusOK, pages.Recover(v))
}
