package web

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// errCSRF is returned by the CSRF middleware; its message is what the
// person reads on the 403 page.
var errCSRF = fiber.NewError(fiber.StatusForbidden,
	"This form has expired or did not come from this site. Reload the page and try again.")

// handleError is the app's only error handler: it maps an error to a
// status, logs internal errors once, and renders the error page. People
// never see the error itself on a 500, only a reference to quote.
func (h *handler) handleError(c *fiber.Ctx, err error) error {
	var limited *account.RateLimitedError
	var deskLimited *desk.RateLimitedError
	switch {
	case errors.As(err, &limited):
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(limited.RetryAfter.Seconds()))))
		err = fiber.NewError(fiber.StatusTooManyRequests, limited.Message())
	case errors.As(err, &deskLimited):
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(deskLimited.RetryAfter.Seconds()))))
		err = fiber.NewError(fiber.StatusTooManyRequests, deskLimited.Message())
	}
	status, message := statusOf(err)
	if status >= fiber.StatusInternalServerError {
		attrs := []any{
			slog.String("request_id", requestID(c)),
			slog.String("method", c.Method()),
			slog.String("path", c.Path()),
			slog.Any("err", err),
		}
		var p *panicError
		if errors.As(err, &p) {
			attrs = append(attrs, slog.String("stack", string(p.stack)))
		}
		h.log.ErrorContext(c.UserContext(), "request failed", attrs...)
	}

	v := pages.ErrorView{
		Page:    h.page(c, http.StatusText(status)),
		Status:  status,
		Heading: http.StatusText(status),
		Message: message,
	}
	switch status {
	case fiber.StatusNotFound:
		v.Page.Title = "Page not found"
		v.Heading = "Page not found"
		v.Message = "There is no page at this address. If you typed it, check it for mistakes; if you followed a link, it may have expired."
	case fiber.StatusInternalServerError:
		v.Page.Title = "Something went wrong"
		v.Heading = "Something went wrong"
		v.Message = "We could not complete your request. Nothing you did caused this; please try again in a moment, and quote the reference below if you contact support."
		v.RequestID = requestID(c)
	}
	if renderErr := render(c, status, pages.Error(v)); renderErr != nil {
		h.log.ErrorContext(c.UserContext(), "render error page",
			slog.String("request_id", requestID(c)), slog.Any("err", renderErr))
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.Status(status).SendString(http.StatusText(status))
	}
	return nil
}

// statusOf maps an error to an HTTP status and the message a person may
// read. Only *fiber.Error carries a message meant for people; anything
// else is internal and becomes a 500.
func statusOf(err error) (int, string) {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		msg := fe.Message
		if msg == "" || msg == http.StatusText(fe.Code) {
			msg = defaultMessage(fe.Code)
		}
		return fe.Code, msg
	}
	return fiber.StatusInternalServerError, ""
}

func defaultMessage(status int) string {
	switch status {
	case fiber.StatusForbidden:
		return "You do not have access to this page."
	case fiber.StatusMethodNotAllowed:
		return "This page does not accept that kind of request."
	case fiber.StatusRequestEntityTooLarge:
		return "What you sent is too large."
	case fiber.StatusTooManyRequests:
		return "Too many attempts. Wait a few minutes and try again."
	default:
		return "The request could not be completed."
	}
}

// notFound is the last handler: nothing else matched.
func (h *handler) notFound(*fiber.Ctx) error {
	return fiber.ErrNotFound
}
