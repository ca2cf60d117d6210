package web

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// Case actions of staff. Each posts a form of the case page: success
// goes back to the page with a confirmation; refused input re-renders the
// page (422) with the error next to the field and what was typed kept.

// caseActionDone answers a case action: err nil redirects with the
// success message; field errors re-render the page with form; the other
// desk errors become their pages.
func (h *handler) caseActionDone(c *fiber.Ctx, ref string, form pages.DeskCaseForm, err error, success string) error {
	var fields desk.FieldErrors
	switch {
	case err == nil:
		norm, _ := desk.NormalizeReference(ref)
		return h.redirectWithFlash(c, deskCasePath(norm), "success", success)
	case errors.As(err, &fields):
		return h.renderDeskCaseForm(c, ref, fiber.StatusUnprocessableEntity, form, fields)
	case errors.Is(err, desk.ErrNotFound):
		return fiber.ErrNotFound
	case errors.Is(err, desk.ErrForbidden):
		return fiber.ErrForbidden
	case errors.Is(err, desk.ErrMerged):
		to, serr := h.tr.Survivor(c.UserContext(), ref)
		if serr != nil {
			return fmt.Errorf("web: case %q: %w", ref, serr)
		}
		return h.redirectWithFlash(c, deskCasePath(to), "error",
			"That case was merged into "+to+"; nothing was changed. Act on this case instead.")
	}
	return fmt.Errorf("web: case action on %q: %w", ref, err)
}

func (h *handler) deskReply(c *fiber.Ctx) error {
	if h.tr == nil {
		return fiber.ErrNotFound
	}
	ref := c.Params("ref")
	form := pages.DeskCaseForm{Body: c.FormValue("body"), ReplyStatus: c.FormValue("reply_status"), Canned: c.FormValue("canned")}
	if c.FormValue("use") != "" {
		return h.useCanned(c, ref, form)
	}
	err := h.tr.ReplyWith(c.UserContext(), ref, deskActor(c), desk.ReplyForm{Body: form.Body, Status: form.ReplyStatus})
	return h.caseActionDone(c, ref, form, err, "Reply sent to the requester.")
}

// useCanned is the reply form's "Use" button without JavaScript: the
// page comes back with the chosen canned reply in the text box (after
// what was already typed).
func (h *handler) useCanned(c *fiber.Ctx, ref string, form pages.DeskCaseForm) error {
	id, err := strconv.Atoi(form.Canned)
	if err != nil {
		return h.renderDeskCaseForm(c, ref, fiber.StatusUnprocessableEntity, form, map[string]string{"canned": "Choose a canned reply, then press Use."})
	}
	r, err := h.tr.CannedReplyByID(c.UserContext(), id)
	if errors.Is(err, desk.ErrNotFound) {
		return h.renderDeskCaseForm(c, ref, fiber.StatusUnprocessableEntity, form, map[string]string{"canned": "That canned reply no longer exists; choose another."})
	}
	if err != nil {
		return fmt.Errorf("web: canned reply %d: %w", id, err)
	}
	if strings.TrimSpace(form.Body) == "" {
		form.Body = r.Body
	} else {
		form.Body = strings.TrimRight(form.Body, "\r\n ") + "\n\n" + r.Body
	}
	return h.renderDeskCaseForm(c, ref, fiber.StatusOK, form, nil)
}

func (h *handler) deskNote(c *fiber.Ctx) error {
	if h.tr == nil {
		return fiber.ErrNotFound
	}
	ref := c.Params("ref")
	form := pages.DeskCaseForm{Note: c.FormValue("note")}
	err := h.tr.AddNote(c.UserContext(), ref, deskActor(c), form.Note)
	return h.caseActionDone(c, ref, form, err, "Note added. Only staff see it.")
}

func (h *handler) deskAssign(c *fiber.Ctx) error {
	if h.tr == nil {
		return fiber.ErrNotFound
	}
	ref := c.Params("ref")
	actor := deskActor(c)
	form := pages.DeskCaseForm{Assignee: c.FormValue("assignee")}
	var to *int
	switch {
	case c.FormValue("take") != "":
		to = &actor.UserID
	case form.Assignee != "":
		id, err := strconv.Atoi(form.Assignee)
		if err != nil {
			return h.renderDeskCaseForm(c, ref, fiber.StatusUnprocessableEntity, form, map[string]string{"assignee": "Choose a member of the support staff."})
		}
		to = &id
	}
	err := h.tr.Assign(c.UserContext(), ref, actor, to)
	msg := "The case is now unassigned."
	switch {
	case to != nil && *to == actor.UserID:
		msg = "You took the case."
	case to != nil:
		msg = "Case assigned."
	}
	return h.caseActionDone(c, ref, form, err, msg)
}

func (h *handler) deskStatus(c *fiber.Ctx) error {
	if h.tr == nil {
		return fiber.ErrNotFound
	}
	ref := c.Params("ref")
	form := pages.DeskCaseForm{Status: c.FormValue("status"), Reason: c.FormValue("reason")}
	err := h.tr.SetStatus(c.UserContext(), ref, deskActor(c), form.Status, form.Reason)
	return h.caseActionDone(c, ref, form, err, "Status changed to "+strings.ToLower(strings.ReplaceAll(form.Status, "_", " "))+".")
}

func (h *handler) deskTags(c *fiber.Ctx) error {
	if h.tr == nil {
		return fiber.ErrNotFound
	}
	ref := c.Params("ref")
	form := pages.DeskCaseForm{Tags: c.FormValue("tags")}
	err := h.tr.SetTags(c.UserContext(), ref, deskActor(c), desk.SplitTags(form.Tags))
	return h.caseActionDone(c, ref, form, err, "Tags saved.")
}

func (h *handler) deskMerge(c *fiber.Ctx) error {
	if h.tr == nil {
		return fiber.ErrNotFound
	}
	ref := c.Params("ref")
	form := pages.DeskCaseForm{Into: c.FormValue("into")}
	res, err := h.tr.Merge(c.UserContext(), ref, form.Into, deskActor(c))
	if err != nil {
		return h.caseActionDone(c, ref, form, err, "")
	}
	norm, _ := desk.NormalizeReference(ref)
	return h.redirectWithFlash(c, deskCasePath(res.Into), "success",
		fmt.Sprintf("%s was merged into this case: %d messages and %d evidence items moved; %s now redirects here.", norm, res.Messages, res.Evidence, norm))
}

// deskPresence records that the viewer has the case open and answers the
// presence banner alone, for desk_live.js to swap in.
func (h *handler) deskPresence(c *fiber.Ctx) error {
	if h.tr == nil {
		return fiber.ErrNotFound
	}
	ref, ok := desk.NormalizeReference(c.Params("ref"))
	if !ok {
		return fiber.ErrNotFound
	}
	others, err := h.presence(c.UserContext(), ref, currentSession(c).UserID)
	if errors.Is(err, desk.ErrNotFound) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, pages.DeskPresenceBanner(pages.DeskPresence{Src: deskCasePath(ref) + "/presence", Others: others}))
}

// presence touches the viewer's presence on case ref and lists the other
// staff who have it open.
func (h *handler) presence(ctx context.Context, ref string, viewerID int) ([]string, error) {
	if err := h.tr.Touch(ctx, ref, viewerID); err != nil {
		return nil, fmt.Errorf("web: presence on %s: %w", ref, err)
	}
	others, err := h.tr.Others(ctx, ref, viewerID)
	if err != nil {
		return nil, fmt.Errorf("web: presence on %s: %w", ref, err)
	}
	return others, nil
}
