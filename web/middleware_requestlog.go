package web

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// requestIDHeader carries the request id in both directions: a proxy in
// front may set it, and every response returns it.
const requestIDHeader = "X-Request-ID"

type requestIDKey struct{}

// validRequestID accepts an incoming id only when it cannot smuggle
// anything into logs.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// requestLog gives each request an id and logs one line when it is done:
// method, path, status, duration and id. It logs the path only, never the
// query string, which may hold a secret token. Errors are handed to the
// app's error handler here, so the logged status is the one sent.
func (h *handler) requestLog(c *fiber.Ctx) error {
	start := time.Now()
	id := c.Get(requestIDHeader)
	if !validRequestID.MatchString(id) {
		id = newRequestID()
	}
	c.Locals(requestIDKey{}, id)
	c.Set(requestIDHeader, id)
	// Copy: fasthttp reuses the request's buffers once the handler returns.
	method, path := c.Method(), strings.Clone(c.Path())

	if err := c.Next(); err != nil {
		if herr := c.App().ErrorHandler(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}

	status := c.Response().StatusCode()
	level := slog.LevelInfo
	switch {
	case path == "/healthz" || path == "/readyz":
		// Probes run every few seconds; keep them out of normal logs.
		level = slog.LevelDebug
	case status >= fiber.StatusInternalServerError:
		level = slog.LevelError
	case status >= fiber.StatusBadRequest:
		level = slog.LevelWarn
	}
	h.log.LogAttrs(c.UserContext(), level, "request",
		slog.String("method", method),
		slog.String("path", path),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(start)),
		slog.String("request_id", id),
	)
	return nil
}

// requestID returns the current request's id ("" outside requestLog).
func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(requestIDKey{}).(string)
	return id
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails since Go 1.24
	return hex.EncodeToString(b[:])
}
