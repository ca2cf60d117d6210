package web

import (
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/mailbox/devmail"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// devMailList shows the captured outgoing mail, newest first, and the
// write form. With ?reply=<id> the form is prefilled as the recipient's
// reply to that mail.
func (h *handler) devMailList(c *fiber.Ctx) error {
	form := pages.DevMailForm{To: h.dev.SupportAddress}
	if id := c.Query("reply"); id != "" {
		m, ok := h.dev.Sink.Get(id)
		if !ok {
			return fiber.ErrNotFound
		}
		form = formFromOutside(devmail.ReplyTo(m))
	}
	return h.renderDevMailList(c, form)
}

// renderDevMailList renders the list page around a form, fresh or
// refused; the status is 200 either way.
func (h *handler) renderDevMailList(c *fiber.Ctx, form pages.DevMailForm) error {
	mails := h.dev.Sink.List() // newest first
	rows := make([]pages.DevMailRow, 0, len(mails))
	for _, m := range mails {
		rows = append(rows, pages.DevMailRow{
			URL:         "/dev/mail/" + url.PathEscape(m.ID),
			ReceivedAt:  m.ReceivedAt.Format("2006-01-02 15:04:05"),
			ReceivedISO: m.ReceivedAt.Format(time.RFC3339),
			From:        m.From,
			To:          strings.Join(recipients(m), ", "),
			Subject:     m.Subject,
		})
	}
	v := pages.DevMailListView{Page: h.page(c, "Dev mail"), Mails: rows, Form: form}
	return render(c, fiber.StatusOK, pages.DevMailList(v))
}

// recipients is who the mail went to: the To header, else the envelope.
func recipients(m devmail.Mail) []string {
	if m.To != "" {
		return []string{m.To}
	}
	return m.EnvelopeTo
}

func formFromOutside(o devmail.Outside) pages.DevMailForm {
	return pages.DevMailForm{
		FromName:   o.FromName,
		From:       o.From,
		To:         o.To,
		Subject:    o.Subject,
		Body:       o.Body,
		InReplyTo:  o.InReplyTo,
		References: strings.Join(o.References, " "),
	}
}
