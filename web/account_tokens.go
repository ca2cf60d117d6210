package web

import (
	"errors"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/web/views/components"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// The API token page: the list, the create form, and the new token shown
// once on the answer to the create form itself, never in a URL, a flash
// cookie or any later page. Creating and revoking need 2FA (the routes)
// and a recent re-authentication, like the security page's changes.

// apiTokensPath is the page, where re-authentication returns to.
const apiTokensPath = account.PathAPITokens

// apiTokenExpiries are the choices of the form's expiry select, in days;
// 0 is no expiry. None is longer than account.MaxAPITokenLifetime.
var apiTokenExpiries = []struct {
	value, label string
	days         int
}{
	{"30", "In 30 days", 30},
	{"90", "In 90 days", 90},
	{"365", "In a year", 365},
	{"never", "Never (until you revoke it)", 0},
}

// defaultAPITokenExpiry is preselected: a token should not outlive its use
// by default.
const defaultAPITokenExpiry = "90"

// apiTokensShow renders the list and the create form.
func (h *handler) apiTokensShow(c *fiber.Ctx) error {
	return h.renderAPITokens(c, fiber.StatusOK, pages.APITokenForm{Expires: defaultAPITokenExpiry}, nil, nil)
}

// apiTokenCreate makes a token and shows it this once, in the answer.
func (h *handler) apiTokenCreate(c *fiber.Ctx) error {
	if redirected, err := h.reauthBeforeOn(c, apiTokensPath, "Then create the token again."); redirected || err != nil {
		return err
	}
	s := currentSession(c)
	form := pages.APITokenForm{Name: c.FormValue("name"), Project: c.FormValue("project"), Expires: c.FormValue("expires")}
	p := account.NewAPIToken{Name: form.Name, Project: form.Project}
	days, ok := apiTokenExpiryDays(form.Expires)
	if !ok {
		return h.renderAPITokens(c, fiber.StatusUnprocessableEntity, form, map[string]string{"expires": "Choose when the token expires."}, nil)
	}
	if days > 0 {
		p.Expires = h.now().Add(time.Duration(days) * 24 * time.Hour)
	}
	created, err := h.acct.CreateAPIToken(c.UserContext(), s.UserID, p, h.attempt(c))
	var fe account.FieldErrors
	switch {
	case errors.As(err, &fe):
		return h.renderAPITokens(c, fiber.StatusUnprocessableEntity, form, fe, nil)
	case errors.Is(err, account.ErrAPITokenNeeds2FA):
		// require2FA let the request through a moment ago; the last factor
		// went in between.
		return h.redirectWithFlash(c, totpSetupPath, "info", require2FAMessage)
	case err != nil:
		return fmt.Errorf("web: create api token of user %d: %w", s.UserID, err)
	}
	shown := &pages.APITokenCreated{Name: created.Name, Token: created.Token, Project: created.Project, Expires: created.Expires}
	return h.renderAPITokens(c, fiber.StatusOK, pages.APITokenForm{Expires: defaultAPITokenExpiry}, nil, shown)
}

// apiTokenRevoke revokes one of the user's tokens; anyone else's is a 404.
func (h *handler) apiTokenRevoke(c *fiber.Ctx) error {
	if redirected, err := h.reauthBeforeOn(c, apiTokensPath, "Then revoke the token again."); redirected || err != nil {
		return err
	}
	s := currentSession(c)
	id, err := c.ParamsInt("id")
	if err != nil || id <= 0 {
		return fiber.ErrNotFound
	}
	err = h.acct.RevokeAPIToken(c.UserContext(), s.UserID, id, h.attempt(c))
	switch {
	case errors.Is(err, account.ErrNotFound):
		return fiber.ErrNotFound
	case errors.Is(err, account.ErrAPITokenRevoked):
		return h.redirectWithFlash(c, apiTokensPath, "info", "That token was already revoked.")
	case err != nil:
		return fmt.Errorf("web: revoke api token %d of user %d: %w", id, s.UserID, err)
	}
	return h.redirectWithFlash(c, apiTokensPath, "success",
		"The token was revoked. Uploads with it are refused from now on.")
}

func apiTokenExpiryDays(value string) (int, bool) {
	for _, e := range apiTokenExpiries {
		if e.value == value {
			return e.days, true
		}
	}
	return 0, false
}

// renderAPITokens renders the page with the form as given (nothing typed
// is lost on an error) and, right after a creation, the new token.
func (h *handler) renderAPITokens(c *fiber.Ctx, status int, form pages.APITokenForm, errs map[string]string, created *pages.APITokenCreated) error {
	s := currentSession(c)
	ctx := c.UserContext()
	tokens, err := h.acct.ListAPITokens(ctx, s.UserID)
	if err != nil {
		return fmt.Errorf("web: api tokens of user %d: %w", s.UserID, err)
	}
	projects, err := h.acct.ProjectNames(ctx, s.UserID)
	if err != nil {
		return fmt.Errorf("web: projects of user %d: %w", s.UserID, err)
	}
	fresh := h.acct.Security.RequireReauth(ctx, s.ID)
	if fresh != nil && !errors.Is(fresh, account.ErrReauthRequired) {
		return fmt.Errorf("web: api token page: %w", fresh)
	}
	v := pages.APITokensView{
		Page:        h.page(c, "API tokens"),
		Created:     created,
		Form:        form,
		Errors:      errs,
		NeedsReauth: fresh != nil,
		Scopes:      []components.Option{{Value: "", Label: "All your projects, and new ones"}},
		UploadURL:   PathUpload,
	}
	if h.cfg.BaseURL != nil {
		v.UploadURL = h.cfg.BaseURL.JoinPath(PathUpload).String()
	}
	for _, name := range projects {
		v.Scopes = append(v.Scopes, components.Option{Value: name, Label: "Only " + name})
	}
	for _, e := range apiTokenExpiries {
		v.Expiries = append(v.Expiries, components.Option{Value: e.value, Label: e.label})
	}
	for _, t := range tokens {
		v.Tokens = append(v.Tokens, pages.APITokenItem{
			ID: t.ID, Name: t.Name, Prefix: t.Prefix, Project: t.Project, Created: t.Created,
			Expires: t.Expires, LastUsed: t.LastUsed, Revoked: t.Revoked, Expired: t.Expired,
		})
	}
	return render(c, status, pages.APITokens(v))
}
