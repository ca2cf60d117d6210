package web

import (
	"fmt"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/desk"
)

// maxUploadBody bounds the body of a form with files: the desk's total
// plus room for the text fields and the multipart framing. Fiber's
// BodyLimit is set to it (web/app.go); limitBody keeps every other
// request to the usual defaultBodyLimit.
const (
	maxUploadBody    = desk.MaxUploadsTotal + 5<<20
	defaultBodyLimit = 4 << 20
)

// limitBody refuses large bodies everywhere but on the routes that take
// files. The body is already read when this runs (bounded by BodyLimit);
// refusing it here keeps the form parsers of other routes from chewing
// through 30 MiB.
func limitBody(c *fiber.Ctx) error {
	// acceptsFiles first: Body() of a parsed multipart request rebuilds it
	// in memory, spooled files included.
	if !acceptsFiles(c) && len(c.Request().Body()) > defaultBodyLimit {
		return fiber.ErrRequestEntityTooLarge
	}
	return c.Next()
}

// acceptsFiles is true for the status page's add-information form.
func acceptsFiles(c *fiber.Ctx) bool {
	return c.Method() == fiber.MethodPost && strings.HasPrefix(c.Path(), desk.PathCaseStatus)
}

// uploadedFiles reads the files of the multipart field name, skipping the
// empty part a browser sends when no file was chosen. A form sent without
// multipart encoding has no files.
func uploadedFiles(c *fiber.Ctx, name string) ([]desk.Upload, error) {
	if !strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEMultipartForm) {
		return nil, nil
	}
	form, err := c.MultipartForm()
	if err != nil {
		return nil, fiber.NewError(fiber.StatusBadRequest, "The form could not be read; please send it again.")
	}
	var out []desk.Upload
	for _, fh := range form.File[name] {
		if fh.Filename == "" && fh.Size == 0 {
			continue
		}
		f, err := fh.Open()
		if err != nil {
			return nil, fmt.Errorf("web: open upload %q: %w", fh.Filename, err)
		}
		// One byte over the limit is enough for the desk to refuse it.
		data, err := io.ReadAll(io.LimitReader(f, desk.MaxUploadSize+1))
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf("web: read upload %q: %w", fh.Filename, err)
		}
		out = append(out, desk.Upload{Filename: fh.Filename, ContentType: fh.Header.Get(fiber.HeaderContentType), Data: data})
	}
	return out, nil
}
