package web

import (
	"context"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
)

// readyTimeout bounds the readiness check so a hung database shows as
// not ready instead of hanging the probe.
const readyTimeout = 3 * time.Second

// healthCheck answers 200 while the process is up; it touches nothing else.
func (h *handler) healthCheck(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.SendString("ok")
}

// readyCheck answers 200 when the database is reachable and migrated, 503
// otherwise. The reason given is generic: the real error (which may name
// hosts or users) goes to the log only.
func (h *handler) readyCheck(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	ctx, cancel := context.WithTimeout(c.UserContext(), readyTimeout)
	defer cancel()
	if err := h.ready(ctx); err != nil {
		h.log.WarnContext(ctx, "not ready", slog.String("request_id", requestID(c)), slog.Any("err", err))
		return c.Status(fiber.StatusServiceUnavailable).
			SendString("not ready: database unreachable or migrations not applied")
	}
	return c.SendString("ok")
}
