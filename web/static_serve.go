package web

import (
	"github.com/gofiber/fiber/v2"
)

// staticServe serves an embedded asset. A request carrying the asset's
// current hash as ?v= may be cached for a year: a changed file gets a new
// URL. Any other request is cached briefly and revalidated by ETag.
func (h *handler) staticServe(c *fiber.Ctx) error {
	a, ok := h.assets.files[c.Params("*")]
	if !ok {
		return fiber.ErrNotFound
	}
	etag := `"` + a.hash + `"`
	c.Set(fiber.HeaderETag, etag)
	if c.Query("v") == a.hash {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	}
	if c.Get(fiber.HeaderIfNoneMatch) == etag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, a.contentType)
	return c.Send(a.body)
}
