package web

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// securityShow renders the account's security page. It needs a session
// but not 2FA: it is where a user without 2FA sets it up.
func (h *handler) securityShow(c *fiber.Ctx) error {
	s := currentSession(c)
	o, err := h.acct.Security.Overview(c.UserContext(), s.UserID, s.ID)
	if err != nil {
		return fmt.Errorf("web: security page of user %d: %w", s.UserID, err)
	}
	fresh := h.acct.Security.RequireReauth(c.UserContext(), s.ID)
	if fresh != nil && !errors.Is(fresh, account.ErrReauthRequired) {
		return fmt.Errorf("web: security page: %w", fresh)
	}
	v := pages.SecurityView{
		Page:               h.page(c, "Account security"),
		Has2FA:             o.Factors.Enabled(),
		TOTP:               o.Factors.TOTP,
		TOTPPending:        o.TOTPPending,
		RecoveryCodesLeft:  o.RecoveryCodesLeft,
		RecoveryCodesTotal: account.RecoveryCodeCount,
		KeyNeedsReauth:     fresh != nil,
		WebAuthnJS:         h.assets.url("webauthn.js"),
	}
	v.EmailNeedsReauth = fresh != nil
	v.MaxEmails = account.MaxEmailAddresses
	v.CanAddEmail = len(o.Emails) < account.MaxEmailAddresses
	for _, e := range o.Emails {
		v.Emails = append(v.Emails, pages.SecurityEmail{ID: e.ID, Address: e.Address, Primary: e.Primary, Verified: e.Verified()})
	}
	for _, k := range o.Keys {
		v.Keys = append(v.Keys, pages.SecurityKey{ID: k.ID, Name: k.Name, Passkey: k.Passkey, Added: k.Added, LastUsed: k.LastUsed})
	}
	for _, d := range o.Devices {
		v.Devices = append(v.Devices, pages.SecurityDevice{ID: d.ID, Device: d.Device, IP: d.IP, Trusted: d.Trusted, LastUsed: d.LastUsed, Expires: d.Expires})
	}
	for _, ss := range o.Sessions {
		v.Sessions = append(v.Sessions, pages.SecuritySession{ID: ss.ID, Device: ss.Device, IP: ss.IP, Created: ss.Created, LastSeen: ss.LastSeen, Current: ss.Current})
	}
	for _, e := range o.Events {
		device := e.Device
		if device == "" {
			device = account.SummarizeUserAgent(e.UserAgent)
		}
		v.Events = append(v.Events, pages.SecurityEvent{Time: e.Time, What: e.Description, Device: device, IP: e.IP})
	}
	return render(c, fiber.StatusOK, pages.Security(v))
}
