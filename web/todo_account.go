package web

import "github.com/gofiber/fiber/v2"

// Placeholders until the account pages land; the owner deletes this file.

func (h *handler) requireLogin(c *fiber.Ctx) error            { return fiber.ErrNotFound }
func (h *handler) require2FA(c *fiber.Ctx) error              { return fiber.ErrNotFound }
func (h *handler) securityShow(c *fiber.Ctx) error            { return fiber.ErrNotFound }
func (h *handler) reauthShow(c *fiber.Ctx) error              { return fiber.ErrNotFound }
func (h *handler) reauthSubmit(c *fiber.Ctx) error            { return fiber.ErrNotFound }
func (h *handler) totpEnrolShow(c *fiber.Ctx) error           { return fiber.ErrNotFound }
func (h *handler) totpEnrolSubmit(c *fiber.Ctx) error         { return fiber.ErrNotFound }
func (h *handler) totpRemove(c *fiber.Ctx) error              { return fiber.ErrNotFound }
func (h *handler) recoveryCodesRegenerate(c *fiber.Ctx) error { return fiber.ErrNotFound }
func (h *handler) keyRegisterBegin(c *fiber.Ctx) error        { return fiber.ErrNotFound }
func (h *handler) keyRegisterFinish(c *fiber.Ctx) error       { return fiber.ErrNotFound }
func (h *handler) keyRemove(c *fiber.Ctx) error               { return fiber.ErrNotFound }
func (h *handler) sessionRevoke(c *fiber.Ctx) error           { return fiber.ErrNotFound }
func (h *handler) deviceRevoke(c *fiber.Ctx) error            { return fiber.ErrNotFound }
func (h *handler) projectsList(c *fiber.Ctx) error            { return fiber.ErrNotFound }
func (h *handler) projectShow(c *fiber.Ctx) error             { return fiber.ErrNotFound }
