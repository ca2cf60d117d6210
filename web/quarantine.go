package web

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/quarantinedmessage"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// quarantinePath is the admin list of quarantined mail.
const quarantinePath = "/admin/quarantine"

// quarantinePreviewBytes caps the raw message shown per entry: enough to
// recognise it, not a whole attachment.
const quarantinePreviewBytes = 2048

// quarantineList shows the pending quarantined messages, oldest first.
func (h *handler) quarantineList(c *fiber.Ctx) error {
	if h.quar == nil {
		return fiber.ErrNotFound
	}
	l, err := desk.ListQuarantine(c.UserContext(), h.quar.DB, quarantinedmessage.StatusPending)
	if err != nil {
		return fmt.Errorf("web: quarantine list: %w", err)
	}
	v := pages.QuarantineView{Page: h.page(c, "Quarantined mail"), CSRF: h.csrfToken(c)}
	for _, q := range l {
		preview, cut := rawPreview(q.Raw)
		v.Items = append(v.Items, pages.QuarantineItem{
			ID: q.ID, Received: q.CreatedAt, Mailbox: q.Mailbox, UIDValidity: q.ImapUidvalidity, UID: q.ImapUID,
			Size: len(q.Raw), Error: q.Error, Preview: preview, Truncated: cut,
		})
	}
	return render(c, fiber.StatusOK, pages.Quarantine(v))
}

// quarantineRetry stores a quarantined message again, after a parser fix.
func (h *handler) quarantineRetry(c *fiber.Ctx) error {
	id, err := h.quarantineID(c)
	if err != nil {
		return err
	}
	err = h.quar.Inbound.Retry(c.UserContext(), id)
	switch {
	case ent.IsNotFound(err):
		return h.redirectWithFlash(c, quarantinePath, "info", "That message is no longer in quarantine.")
	case errors.Is(err, desk.ErrStillUnparseable):
		return h.redirectWithFlash(c, quarantinePath, "error",
			fmt.Sprintf("Message %d still cannot be stored: %s", id, unparseableReason(err, id)))
	case err != nil:
		return fmt.Errorf("web: retry quarantined message %d: %w", id, err)
	}
	return h.redirectWithFlash(c, quarantinePath, "success", fmt.Sprintf("Message %d was stored.", id))
}

// quarantineDiscard takes a message off the queue; its bytes stay on
// record.
func (h *handler) quarantineDiscard(c *fiber.Ctx) error {
	id, err := h.quarantineID(c)
	if err != nil {
		return err
	}
	err = h.quar.Inbound.Discard(c.UserContext(), id)
	switch {
	case ent.IsNotFound(err):
		return h.redirectWithFlash(c, quarantinePath, "info", "That message is no longer in quarantine.")
	case err != nil:
		return fmt.Errorf("web: discard quarantined message %d: %w", id, err)
	}
	return h.redirectWithFlash(c, quarantinePath, "success", fmt.Sprintf("Message %d was discarded.", id))
}

// quarantineID is the entry a retry or discard names; 404 without
// ingestion or for a malformed id.
func (h *handler) quarantineID(c *fiber.Ctx) (int, error) {
	if h.quar == nil {
		return 0, fiber.ErrNotFound
	}
	id, err := c.ParamsInt("id")
	if err != nil || id <= 0 {
		return 0, fiber.ErrNotFound
	}
	return id, nil
}

// rawPreview is the start of a raw message as text for a <pre>: valid
// UTF-8, at most quarantinePreviewBytes, and whether it was cut.
func rawPreview(raw []byte) (string, bool) {
	cut := len(raw) > quarantinePreviewBytes
	if cut {
		raw = raw[:quarantinePreviewBytes]
	}
	s := strings.ToValidUTF8(string(raw), "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	if !utf8.ValidString(s) {
		s = ""
	}
	return s, cut
}

// unparseableReason is the parser's complaint inside Retry's error,
// which an administrator needs to see, without the repeated preamble.
func unparseableReason(err error, id int) string {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, fmt.Sprintf("%s: %d: ", desk.ErrStillUnparseable, id)); ok {
		return rest
	}
	return msg
}
