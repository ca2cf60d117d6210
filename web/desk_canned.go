package web

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// Canned replies, managed by admins at /admin/canned-replies: the list
// with one form, which adds a reply or, with ?edit=ID, edits that one.

func (h *handler) cannedList(c *fiber.Ctx) error {
	if h.tr == nil {
		return fiber.ErrNotFound
	}
	var name, body string
	id := c.QueryInt("edit")
	if id != 0 {
		r, err := h.tr.CannedReplyByID(c.UserContext(), id)
		if errors.Is(err, desk.ErrNotFound) {
			return h.redirectWithFlash(c, pages.CannedRepliesPath, "error", "That canned reply no longer exists.")
		}
		if err != nil {
			return fmt.Errorf("web: canned reply %d: %w", id, err)
		}
		name, body = r.Name, r.Body
	}
	return h.renderCanned(c, fiber.StatusOK, id, name, body, nil)
}

func (h *handler) renderCanned(c *fiber.Ctx, status, editID int, name, body string, errs map[string]string) error {
	list, err := h.tr.CannedReplies(c.UserContext())
	if err != nil {
		return fmt.Errorf("web: canned replies: %w", err)
	}
	v := pages.CannedRepliesView{Page: h.page(c, "Canned replies"), EditID: editID, Name: name, Body: body, Errors: errs}
	for _, r := range list {
		v.Replies = append(v.Replies, pages.DeskCanned{ID: r.ID, Name: r.Name, Body: r.Body})
	}
	for _, p := range desk.Placeholders {
		v.Placeholders = append(v.Placeholders, [2]string{p.Name, p.Meaning})
	}
	return render(c, status, pages.CannedReplies(v))
}

// cannedDone answers a save: field errors re-render the form with what
// was typed; success goes back to the list.
func (h *handler) cannedDone(c *fiber.Ctx, editID int, name, body string, err error, success string) error {
	var fields desk.FieldErrors
	switch {
	case err == nil:
		return h.redirectWithFlash(c, pages.CannedRepliesPath, "success", success)
	case errors.As(err, &fields):
		return h.renderCanned(c, fiber.StatusUnprocessableEntity, editID, name, body, fields)
	case errors.Is(err, desk.ErrNotFound):
		return h.redirectWithFlash(c, pages.CannedRepliesPath, "error", "That canned reply no longer exists.")
	case errors.Is(err, desk.ErrForbidden):
		return fiber.ErrForbidden
	}
	return fmt.Errorf("web: canned reply: %w", err)
}

func (h *handler) cannedCreate(c *fiber.Ctx) error {
	if h.tr == nil {
		return fiber.ErrNotFound
	}
	name, body := c.FormValue("name"), c.FormValue("body")
	_, err := h.tr.CreateCanned(c.UserContext(), deskActor(c), name, body)
	return h.cannedDone(c, 0, name, body, err, "Canned reply added.")
}

func (h *handler) cannedUpdate(c *fiber.Ctx) error {
	if h.tr == nil {
		return fiber.ErrNotFound
	}
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil || id <= 0 {
		return fiber.ErrNotFound
	}
	name, body := c.FormValue("name"), c.FormValue("body")
	err = h.tr.UpdateCanned(c.UserContext(), deskActor(c), id, name, body)
	return h.cannedDone(c, id, name, body, err, "Canned reply saved.")
}

func (h *handler) cannedDelete(c *fiber.Ctx) error {
	if h.tr == nil {
		return fiber.ErrNotFound
	}
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil || id <= 0 {
		return fiber.ErrNotFound
	}
	err = h.tr.DeleteCanned(c.UserContext(), deskActor(c), id)
	return h.cannedDone(c, 0, "", "", err, "Canned reply deleted.")
}
