package web

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/mailbox/devmail"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// devMailDeliver writes a mail "from outside" into the support mailbox.
// Refused input re-renders the form with each error next to its field and
// every value kept; success redirects to the list with a flash.
func (h *handler) devMailDeliver(c *fiber.Ctx) error {
	form := pages.DevMailForm{
		FromName:   c.FormValue("from_name"),
		From:       strings.TrimSpace(c.FormValue("from")),
		To:         strings.TrimSpace(c.FormValue("to")),
		Subject:    c.FormValue("subject"),
		Body:       c.FormValue("body"),
		InReplyTo:  c.FormValue("in_reply_to"),
		References: c.FormValue("references"),
	}
	if form.Errors = requiredDevMailFields(form); len(form.Errors) > 0 {
		return h.renderDevMailList(c, form)
	}

	raw, err := devmail.ComposeOutside(devmail.Outside{
		FromName:   form.FromName,
		From:       form.From,
		To:         form.To,
		Subject:    form.Subject,
		Body:       form.Body,
		InReplyTo:  form.InReplyTo,
		References: strings.Fields(form.References),
	}, h.now())
	var fe *devmail.FieldError
	switch {
	case errors.As(err, &fe):
		if name, label, ok := devMailField(fe.Field); ok {
			form.Errors = map[string]string{name: label + " " + fe.Problem + "."}
		} else {
			form.Problem = "The reply headers are not valid: " + fe.Problem + ". Start again from the mail you reply to."
		}
		return h.renderDevMailList(c, form)
	case err != nil:
		return fmt.Errorf("web: compose dev mail: %w", err)
	}

	if err := h.dev.Mailbox.Deliver(c.UserContext(), raw); err != nil {
		return fmt.Errorf("web: deliver dev mail: %w", err)
	}
	return h.redirectWithFlash(c, "/dev/mail", "success", "Delivered to the support mailbox")
}

// requiredDevMailFields checks the fields a mail cannot do without, all at
// once, so the person sees every missing field in one round.
func requiredDevMailFields(f pages.DevMailForm) map[string]string {
	errs := map[string]string{}
	if f.From == "" {
		errs["from"] = "Enter the sender's address, like someone@example.org."
	}
	if f.To == "" {
		errs["to"] = "Enter the recipient's address."
	}
	if strings.TrimSpace(f.Subject) == "" {
		errs["subject"] = "Enter a subject."
	}
	if strings.TrimSpace(f.Body) == "" {
		errs["body"] = "Write a message."
	}
	return errs
}

// devMailField maps a devmail.FieldError field to the form field and the
// label a person reads.
func devMailField(field string) (name, label string, ok bool) {
	switch field {
	case "FromName":
		return "from_name", "From name", true
	case "From":
		return "from", "From address", true
	case "To":
		return "to", "To", true
	case "Subject":
		return "subject", "Subject", true
	case "Body":
		return "body", "Message", true
	}
	return "", "", false
}
