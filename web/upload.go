package web

import (
	"errors"
	"log/slog"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/registry"
)

// PathUpload is the upload endpoint: the classic index upload protocol
// that twine speaks (`twine upload --repository-url BASE_URL/legacy/`).
// It takes no cookies and no CSRF token, only HTTP Basic credentials, so
// routes.go registers it before the session middleware.
const PathUpload = "/legacy/"

// tokenUser is the Basic-auth username that says "the password is an API
// token".
const tokenUser = "__token__"

// Answers of the upload endpoint. twine prints the HTTP reason phrase, not
// the body, so each answer is sent as both.
const (
	uploadAuthRequired = "Authentication required: upload with the username __token__ and an API token " +
		"as the password. Create a token on your account page at /account/tokens."
	uploadPasswordRefused = "Passwords cannot be used to upload: an API token must be used. Create one on " +
		"your account page at /account/tokens, then upload with the username __token__ and the token as the password."
	uploadTokenInvalid = "Invalid API token: no such token exists. Check that the whole token was copied, " +
		"or create a new one at /account/tokens."
	uploadTokenRevoked = "This API token has been revoked and can no longer upload. " +
		"Create a new one at /account/tokens."
	uploadTokenExpired = "This API token has expired and can no longer upload. " +
		"Create a new one at /account/tokens."
	uploadAccountInactive = "The account of this API token is not active, so it cannot upload."
	uploadNotMultipart    = "The upload must be a multipart/form-data request with the file in the content field, as twine sends it."
	uploadOneFile         = "Send one file per upload, in the content field."
)

// packageUpload receives one distribution file: it authenticates the API
// token, then hands the fields and the file to the registry, which checks
// every rule and records the upload.
func (h *handler) packageUpload(c *fiber.Ctx) error {
	if h.reg == nil {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	user, password, ok := basicCredentials(c)
	if !ok {
		c.Set(fiber.HeaderWWWAuthenticate, `Basic realm="Upload API", charset="UTF-8"`)
		return uploadAnswer(c, fiber.StatusUnauthorized, uploadAuthRequired)
	}
	// A password is refused before anything is looked up: this endpoint
	// never checks passwords, so it cannot be used to guess them.
	if user != tokenUser || !account.LooksLikeAPIToken(password) {
		return uploadAnswer(c, fiber.StatusForbidden, uploadPasswordRefused)
	}
	tok, err := h.reg.Authenticate(c.UserContext(), password)
	switch {
	case errors.Is(err, account.ErrAPITokenRevoked):
		return uploadAnswer(c, fiber.StatusForbidden, uploadTokenRevoked)
	case errors.Is(err, account.ErrAPITokenExpired):
		return uploadAnswer(c, fiber.StatusForbidden, uploadTokenExpired)
	case errors.Is(err, account.ErrAPITokenAccountInactive):
		return uploadAnswer(c, fiber.StatusForbidden, uploadAccountInactive)
	case errors.Is(err, account.ErrAPITokenInvalid):
		return uploadAnswer(c, fiber.StatusForbidden, uploadTokenInvalid)
	case err != nil:
		return err
	}

	form, err := c.MultipartForm()
	if err != nil {
		return uploadAnswer(c, fiber.StatusBadRequest, uploadNotMultipart)
	}
	req := registry.UploadRequest{
		Token:           tok,
		Action:          formValue(form, ":action"),
		ProtocolVersion: formValue(form, "protocol_version"),
		Name:            formValue(form, "name"),
		Version:         formValue(form, "version"),
		FileType:        formValue(form, "filetype"),
		PythonVersion:   formValue(form, "pyversion"),
		Summary:         formValue(form, "summary"),
		SHA256Digest:    formValue(form, "sha256_digest"),
		MD5Digest:       formValue(form, "md5_digest"),
		Blake2256Digest: formValue(form, "blake2_256_digest"),
		Size:            -1,
		IP:              h.clientIP(c),
	}
	switch files := form.File["content"]; len(files) {
	case 0:
		// The registry names the missing field.
	case 1:
		f, err := files[0].Open()
		if err != nil {
			return err
		}
		defer f.Close()
		req.Filename, req.Content, req.Size = files[0].Filename, f, files[0].Size
	default:
		return uploadAnswer(c, fiber.StatusBadRequest, uploadOneFile)
	}

	res, err := h.reg.Upload(c.UserContext(), req)
	if r, ok := registry.AsRefusal(err); ok {
		return uploadAnswer(c, refusalStatus(r.Kind), r.Message)
	}
	if err != nil {
		return err
	}
	h.log.InfoContext(c.UserContext(), "package uploaded",
		slog.String("request_id", requestID(c)),
		slog.String("project", res.Project.Name),
		slog.Bool("project_created", res.ProjectCreated),
		slog.String("filename", res.File.Filename),
		slog.Int64("size", res.File.Size),
		slog.Int("user_id", tok.UserID),
		slog.Int("api_token_id", tok.ID),
	)
	return uploadAnswer(c, fiber.StatusOK, "OK")
}

// basicCredentials reads HTTP Basic credentials; ok is false when there
// are none or they are malformed. net/http's parser does the decoding.
func basicCredentials(c *fiber.Ctx) (user, password string, ok bool) {
	auth := c.Get(fiber.HeaderAuthorization)
	if auth == "" {
		return "", "", false
	}
	r := http.Request{Header: http.Header{"Authorization": {auth}}}
	return r.BasicAuth()
}

// refusalStatus is the HTTP status of a registry refusal.
func refusalStatus(k registry.RefusalKind) int {
	switch k {
	case registry.RefusedForbidden:
		return fiber.StatusForbidden
	case registry.RefusedTooLarge:
		return fiber.StatusRequestEntityTooLarge
	default: // invalid, and "File already exists" (400, as twine expects)
		return fiber.StatusBadRequest
	}
}

// uploadAnswer sends msg as the reason phrase, which twine prints, and as
// a plain-text body.
func uploadAnswer(c *fiber.Ctx, status int, msg string) error {
	c.Status(status)
	c.Response().Header.SetStatusMessage([]byte(reasonPhrase(msg)))
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.SendString(msg + "\n")
}

// reasonPhrase makes msg safe for the status line: printable ASCII only
// (a file name could carry anything else).
func reasonPhrase(msg string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, msg)
}

// formValue is the first value of a form field.
func formValue(form *multipart.Form, name string) string {
	if v := form.Value[name]; len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}
