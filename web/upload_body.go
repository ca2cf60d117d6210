package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/registry"
)

// uploadBodyMargin is the room a package upload needs beside its file:
// the metadata fields (a long description among them) and the multipart
// framing.
const uploadBodyMargin = 8 << 20

// bodyLimit is the HTTP server's BodyLimit: room for the largest request
// any route takes, the status page's files or a package upload. The
// server reads the whole body before a handler runs (a multipart file
// part over 16 MiB spooled to a temporary file, the rest in memory);
// limitBodies then refuses large bodies on the routes that take none, and
// the proxy in front should cap them earlier (README, Production).
func bodyLimit(reg *registry.Service) int {
	limit := int64(maxUploadBody)
	if reg != nil && reg.MaxSize()+uploadBodyMargin > limit {
		limit = reg.MaxSize() + uploadBodyMargin
	}
	return int(limit)
}

// limitBodies refuses a large body on every route but those that take
// files. The declared length is checked first, so a large body sent
// elsewhere is refused without being put back together in memory; package
// uploads skip limitBody, which would do just that to measure them (the
// registry enforces their own limit, with a message that names it).
func limitBodies(c *fiber.Ctx) error {
	if isPackageUpload(c) {
		return c.Next()
	}
	if c.Request().Header.ContentLength() > defaultBodyLimit && !acceptsFiles(c) {
		return fiber.ErrRequestEntityTooLarge
	}
	return limitBody(c)
}

// isPackageUpload is true for a POST to the upload endpoint, with or
// without its trailing slash.
func isPackageUpload(c *fiber.Ctx) bool {
	return c.Method() == fiber.MethodPost && strings.TrimSuffix(c.Path(), "/") == strings.TrimSuffix(PathUpload, "/")
}
