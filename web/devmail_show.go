package web

import (
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// devMailShow shows one captured mail: headers, the text part with links
// made clickable, and the HTML part only after sanitising.
func (h *handler) devMailShow(c *fiber.Ctx) error {
	m, ok := h.dev.Sink.Get(c.Params("id"))
	if !ok {
		return fiber.ErrNotFound
	}
	d := pages.DevMailDetail{
		Subject:       m.Subject,
		From:          m.From,
		To:            m.To,
		Cc:            m.Cc,
		ReceivedAt:    m.ReceivedAt.Format("2006-01-02 15:04:05 MST"),
		EnvelopeFrom:  m.EnvelopeFrom,
		EnvelopeTo:    strings.Join(m.EnvelopeTo, ", "),
		Text:          linkify(m.Text),
		HasHTML:       strings.TrimSpace(m.HTML) != "",
		SanitizedHTML: h.mailHTML.Sanitize(m.HTML),
		ReplyURL:      "/dev/mail?reply=" + url.QueryEscape(m.ID) + "#write",
	}
	if !m.Date.IsZero() {
		d.Date = m.Date.Format(time.RFC1123Z)
	}
	for _, hd := range m.Headers {
		d.Headers = append(d.Headers, pages.MailHeader{Name: hd.Name, Value: hd.Value})
	}
	title := m.Subject
	if title == "" {
		title = "(no subject)"
	}
	return render(c, fiber.StatusOK, pages.DevMailShow(pages.DevMailShowView{Page: h.page(c, title), Mail: d}))
}
