package web

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
)

// deviceCookieAge is the longest lifetime browsers accept (Chrome caps
// cookies at 400 days); a sign-in renews it (refreshDevice), so a device
// in use never loses it while it is trusted.
const deviceCookieAge = 400 * 24 * time.Hour

// deviceTokenBytes is the size of account.NewDeviceToken's random value.
const deviceTokenBytes = 32

type deviceKey struct{}

// ensureDevice gives every browser a device cookie: a random token that
// identifies this browser (not its IP) to the held-login confirmation and
// the trusted-device list. A missing or malformed cookie is replaced; the
// token is also kept for this request, whose own cookie header cannot
// carry the one just set.
func (h *handler) ensureDevice(c *fiber.Ctx) error {
	token := c.Cookies(DeviceCookie)
	if validDeviceToken(token) {
		token = strings.Clone(token)
	} else {
		var err error
		token, err = account.NewDeviceToken()
		if err != nil {
			return fmt.Errorf("web: device token: %w", err)
		}
		h.setCookie(c, DeviceCookie, token, deviceCookieAge)
	}
	c.Locals(deviceKey{}, token)
	return c.Next()
}

// refreshDevice renews the device cookie's lifetime; called at sign-in.
func (h *handler) refreshDevice(c *fiber.Ctx) {
	if token := deviceToken(c); token != "" {
		h.setCookie(c, DeviceCookie, token, deviceCookieAge)
	}
}

// deviceToken is this browser's device token, "" before ensureDevice ran.
func deviceToken(c *fiber.Ctx) string {
	token, _ := c.Locals(deviceKey{}).(string)
	return token
}

func validDeviceToken(v string) bool {
	if len(v) != base64.RawURLEncoding.EncodedLen(deviceTokenBytes) {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == deviceTokenBytes
}
