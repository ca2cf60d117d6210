package web

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// caseStatusShow is the requester's status page, reached by the secret
// link /case/<reference>?token=<token> without logging in. A wrong
// reference or token is a plain 404, the same for both.
func (h *handler) caseStatusShow(c *fiber.Ctx) error {
	return h.renderCaseStatus(c, c.Params("ref"), c.Query("token"), fiber.StatusOK, "", nil)
}

// caseStatusAdd adds the requester's text to the case; the token comes in
// a hidden field, so it never appears in a form URL. Success goes back to
// the page (post/redirect/get) with a confirmation.
func (h *handler) caseStatusAdd(c *fiber.Ctx) error {
	if h.desk == nil {
		return fiber.ErrNotFound
	}
	ref, token, text := c.Params("ref"), c.FormValue("token"), c.FormValue("text")
	files, err := uploadedFiles(c, "files")
	if err != nil {
		return err
	}
	err = h.desk.AddInformation(c.UserContext(), ref, token, text, files, desk.Origin{IP: h.clientIP(c), UserAgent: c.Get(fiber.HeaderUserAgent)})
	var fields desk.FieldErrors
	switch {
	case errors.As(err, &fields):
		return h.renderCaseStatus(c, ref, token, fiber.StatusUnprocessableEntity, text, fields)
	case errors.Is(err, desk.ErrNotFound):
		return fiber.ErrNotFound
	case err != nil:
		return fmt.Errorf("web: add information to case %q: %w", ref, err)
	}
	return h.redirectWithFlash(c, caseStatusPath(ref, token), "success",
		"Thank you. We added this to your case; the person handling it is told.")
}

// renderCaseStatus renders the status page. It must stay out of caches
// and its address (which holds the token) out of any Referer header.
func (h *handler) renderCaseStatus(c *fiber.Ctx, ref, token string, status int, text string, errs map[string]string) error {
	if h.desk == nil {
		return fiber.ErrNotFound
	}
	sv, err := h.desk.Status(c.UserContext(), ref, token)
	if errors.Is(err, desk.ErrNotFound) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("web: case status %q: %w", ref, err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	v := pages.CaseStatusView{
		Page:      h.page(c, "Case "+sv.Reference),
		Reference: sv.Reference,
		Token:     token,
		Status:    sv.Status,
		Next:      sv.Next,
		Created:   sv.Created,
		Todo:      sv.Todo,
		Text:      text,
		Errors:    errs,
		Limits:    pages.CaseStatusLimits{Files: desk.MaxUploads, EachMiB: desk.MaxUploadSize >> 20, TotalMiB: desk.MaxUploadsTotal >> 20},
	}
	for _, m := range sv.Messages {
		pm := pages.CaseStatusMessage{FromRequester: m.FromRequester, At: m.At, Body: m.Body, Quoted: m.Quoted}
		for _, a := range m.Attachments {
			pm.Attachments = append(pm.Attachments, pages.CaseStatusAttachment{Filename: a.Filename, Size: a.Size})
		}
		v.Messages = append(v.Messages, pm)
	}
	return render(c, status, pages.CaseStatus(v))
}

// caseStatusPath is the status page's path with its token.
func caseStatusPath(ref, token string) string {
	return desk.PathCaseStatus + url.PathEscape(ref) + "?" + url.Values{"token": {token}}.Encode()
}
