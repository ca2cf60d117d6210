package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// CSRF names: the cookie holding the browser's random value, the form
// field and the header that must carry the signed token.
const (
	CSRFCookie = "rd_csrf"
	CSRFField  = "_csrf"
	CSRFHeader = "X-CSRF-Token"
)

// csrfCookieAge outlives any session, so an open form keeps working.
const csrfCookieAge = 30 * 24 * time.Hour

type csrfKey struct{}

// checkCSRF implements signed double-submit CSRF protection. The browser
// holds a random value in an HttpOnly cookie; pages embed the token
// "<value>.<hmac(value, session id)>". A state-changing request must send
// the token in the _csrf field or the X-CSRF-Token header, its value must
// equal the cookie's and its HMAC must be valid for the current session —
// so a cookie planted by a sibling subdomain is useless without our key,
// and a token from before a login does not work after it. Requests a
// browser marks as cross-site are refused before the token is looked at.
func (h *handler) checkCSRF(c *fiber.Ctx) error {
	value := c.Cookies(CSRFCookie)
	if !validCSRFValue(value) {
		value = newCSRFValue()
		h.setCookie(c, CSRFCookie, value, csrfCookieAge)
	} else {
		value = strings.Clone(value)
	}
	c.Locals(csrfKey{}, value)

	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	if reason := h.csrfFailure(c, value); reason != "" {
		h.log.WarnContext(c.UserContext(), "csrf check failed",
			slog.String("reason", reason),
			slog.String("request_id", requestID(c)),
			slog.String("method", c.Method()),
			slog.String("path", c.Path()))
		return errCSRF
	}
	return c.Next()
}

// csrfFailure says why the request fails the check, "" when it passes.
func (h *handler) csrfFailure(c *fiber.Ctx, value string) string {
	if reason := h.crossSite(c); reason != "" {
		return reason
	}
	if strings.HasPrefix(c.Path(), PathJobs+"/api/") {
		return h.jobsAPISameOrigin(c)
	}
	token := c.FormValue(CSRFField)
	if token == "" {
		token = c.Get(CSRFHeader)
	}
	if token == "" {
		return "no token"
	}
	got, mac, ok := strings.Cut(token, ".")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(value)) != 1 {
		return "token does not match cookie"
	}
	if !h.csrf.valid(mac, value, sessionBinding(c)) {
		return "token signature invalid for this session"
	}
	return ""
}

// crossSite refuses what the browser itself says is not from our origin:
// Sec-Fetch-Site other than same-origin/none (a sibling subdomain is
// "same-site" but not us), else an Origin that is neither this host nor
// the configured BASE_URL. Clients that send neither header (old
// browsers, scripts) are left to the token check.
func (h *handler) crossSite(c *fiber.Ctx) string {
	switch site := c.Get("Sec-Fetch-Site"); site {
	case "same-origin", "none":
		return ""
	case "":
	default:
		return "Sec-Fetch-Site: " + site
	}
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return ""
	}
	o, err := url.Parse(origin)
	if err != nil || o.Host == "" {
		return "unusable Origin"
	}
	if o.Host == c.Hostname() {
		return ""
	}
	if b := h.cfg.BaseURL; b != nil && o.Scheme == b.Scheme && o.Host == b.Host {
		return ""
	}
	return "cross-origin Origin"
}

// jobsAPISameOrigin checks River UI's API calls (retry, cancel, delete
// jobs), which its JavaScript sends without our token: it passes only
// when the browser asserts the request comes from our own origin —
// Sec-Fetch-Site: same-origin, or an Origin equal to BASE_URL's. A client
// that sends neither is refused, unlike on form posts, since no token
// stands behind it.
func (h *handler) jobsAPISameOrigin(c *fiber.Ctx) string {
	if c.Get("Sec-Fetch-Site") == "same-origin" {
		return ""
	}
	origin := c.Get(fiber.HeaderOrigin)
	if b := h.cfg.BaseURL; origin != "" && b != nil {
		if o, err := url.Parse(origin); err == nil && o.Scheme == b.Scheme && o.Host == b.Host {
			return ""
		}
	}
	return "River UI API call without a same-origin assertion"
}

// csrfToken is the token to put in this request's forms.
func (h *handler) csrfToken(c *fiber.Ctx) string {
	value, _ := c.Locals(csrfKey{}).(string)
	if value == "" {
		return ""
	}
	return value + "." + h.csrf.tag(value, sessionBinding(c))
}

// sessionBinding ties tokens to the signed-in session, "" when signed out.
func sessionBinding(c *fiber.Ctx) string {
	if s := currentSession(c); s != nil {
		return strconv.Itoa(s.ID)
	}
	return ""
}

const csrfValueBytes = 32

func newCSRFValue() string {
	b := make([]byte, csrfValueBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}

func validCSRFValue(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == csrfValueBytes
}
