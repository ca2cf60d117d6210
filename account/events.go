package account

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/securityevent"
	"github.com/recoverydesk/recoverydesk/internal/audit"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// Security events are an account's history: shown to its owner at
// /account/security and read by the evidence jobs for red flags (a burst
// of failed logins, a recent 2FA change). SecurityEvent.user is required,
// so only attempts against existing accounts are recorded; a failed login
// for an unknown username has no account to attach to and is only counted
// by the per-IP rate limit.

// EventKind names what happened; the values are stored.
type EventKind string

// The kinds of security event.
const (
	EventLoginSucceeded         EventKind = "login_succeeded"
	EventLoginFailed            EventKind = "login_failed" // DetailReason says why
	EventLoginHeld              EventKind = "login_held"   // unrecognized device
	EventLoginConfirmed         EventKind = "login_confirmed"
	EventLogout                 EventKind = "logout"
	EventPasswordChanged        EventKind = "password_changed"
	EventPasswordResetRequested EventKind = "password_reset_requested"
	EventPasswordReset          EventKind = "password_reset"
	EventEmailAdded             EventKind = "email_added"
	EventEmailVerified          EventKind = "email_verified"
	EventPrimaryEmailChanged    EventKind = "primary_email_changed" // a red flag for recovery
	EventEmailRemoved           EventKind = "email_removed"
	EventTOTPAdded              EventKind = "totp_added"
	EventTOTPRemoved            EventKind = "totp_removed"
	EventWebAuthnAdded          EventKind = "webauthn_added"
	EventWebAuthnRemoved        EventKind = "webauthn_removed"
	EventRecoveryCodesGenerated EventKind = "recovery_codes_generated"
	EventRecoveryCodeUsed       EventKind = "recovery_code_used"
	EventSessionRevoked         EventKind = "session_revoked"
	EventDeviceTrusted          EventKind = "device_trusted"
	EventDeviceRevoked          EventKind = "device_revoked"
	EventTwoFAReset             EventKind = "twofa_reset"
	EventStaffRoleGranted       EventKind = "staff_role_granted" // by an operator, DetailRole says which
	EventStaffRoleRevoked       EventKind = "staff_role_revoked"
	EventAPITokenCreated        EventKind = "api_token_created" // details name the token and its scope
	EventAPITokenRevoked        EventKind = "api_token_revoked"
)

// Well-known keys of an event's details.
const (
	// DetailMethod is how the user authenticated or what was changed:
	// "password", "totp", "webauthn", "passkey", "recovery_code".
	DetailMethod = "method"
	// DetailReason is why a login failed ("bad_password", "bad_code", ...).
	DetailReason = "reason"
	// DetailDevice is EventContext.Device.
	DetailDevice = "device"
)

// EventKinds returns every kind, in the order of the constants.
func EventKinds() []EventKind {
	return []EventKind{
		EventLoginSucceeded, EventLoginFailed, EventLoginHeld, EventLoginConfirmed, EventLogout,
		EventPasswordChanged, EventPasswordResetRequested, EventPasswordReset,
		EventEmailAdded, EventEmailVerified, EventPrimaryEmailChanged, EventEmailRemoved,
		EventTOTPAdded, EventTOTPRemoved, EventWebAuthnAdded, EventWebAuthnRemoved,
		EventRecoveryCodesGenerated, EventRecoveryCodeUsed,
		EventSessionRevoked, EventDeviceTrusted, EventDeviceRevoked, EventTwoFAReset,
		EventStaffRoleGranted, EventStaffRoleRevoked,
		EventAPITokenCreated, EventAPITokenRevoked,
	}
}

// Describe is the kind in words, for the account's security page.
func (k EventKind) Describe() string {
	switch k {
	case EventLoginSucceeded:
		return "Signed in"
	case EventLoginFailed:
		return "Failed sign-in attempt"
	case EventLoginHeld:
		return "Sign-in from an unrecognized browser held for email confirmation"
	case EventLoginConfirmed:
		return "Sign-in from a new browser confirmed by email"
	case EventLogout:
		return "Signed out"
	case EventPasswordChanged:
		return "Password changed"
	case EventPasswordResetRequested:
		return "Password reset requested"
	case EventPasswordReset:
		return "Password reset by email link"
	case EventEmailAdded:
		return "Email address added"
	case EventEmailVerified:
		return "Email address verified"
	case EventPrimaryEmailChanged:
		return "Primary email address changed"
	case EventEmailRemoved:
		return "Email address removed"
	case EventTOTPAdded:
		return "Authenticator app added"
	case EventTOTPRemoved:
		return "Authenticator app removed"
	case EventWebAuthnAdded:
		return "Security key added"
	case EventWebAuthnRemoved:
		return "Security key removed"
	case EventRecoveryCodesGenerated:
		return "New recovery codes generated"
	case EventRecoveryCodeUsed:
		return "Recovery code used"
	case EventSessionRevoked:
		return "Session signed out remotely"
	case EventDeviceTrusted:
		return "Browser remembered as trusted"
	case EventDeviceRevoked:
		return "Trusted browser removed"
	case EventTwoFAReset:
		return "Two-factor authentication reset by support"
	case EventStaffRoleGranted:
		return "Support staff role granted"
	case EventStaffRoleRevoked:
		return "Support staff role removed"
	case EventAPITokenCreated:
		return "API token created"
	case EventAPITokenRevoked:
		return "API token revoked"
	}
	return "Security event: " + strings.ReplaceAll(string(k), "_", " ")
}

// EventContext is where an event came from.
type EventContext struct {
	IP        string
	UserAgent string
	// Device is a short label of the browser, e.g. "Firefox on Linux"
	// (SummarizeUserAgent).
	Device string
}

// Event is one entry of an account's security history.
type Event struct {
	ID          int
	Time        time.Time
	Kind        EventKind
	Description string
	IP          string
	UserAgent   string
	Device      string
	// Method and Reason are DetailMethod and DetailReason, "" if absent.
	Method string
	Reason string
	// Details are all the details recorded, including the above.
	Details map[string]any
}

// RecordEvent appends an event to userID's history; client may be a
// transaction's client, so the event commits with the change it records.
func RecordEvent(ctx context.Context, client *ent.Client, userID int, kind EventKind, ec EventContext, details map[string]any) error {
	if kind == "" {
		return fmt.Errorf("account: record event for user %d: empty kind", userID)
	}
	d := make(map[string]any, len(details)+1)
	for k, v := range details {
		d[k] = v
	}
	if ec.Device != "" {
		d[DetailDevice] = ec.Device
	}
	err := client.SecurityEvent.Create().
		SetUserID(userID).
		SetKind(string(kind)).
		SetIP(truncate(ec.IP, 64)).
		SetUserAgent(truncate(ec.UserAgent, 512)).
		SetDetails(d).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("account: record %s event for user %d: %w", kind, userID, err)
	}
	return nil
}

// RecordChange records a security CHANGE (a password, an address, a
// factor, a session or a trusted browser) both as userID's event and as a
// row of the audit log, inside tx, so neither exists without the change.
// The owner is the actor: staff actions are audited by the desk. details
// must hold no secrets (they are copied into the audit log for good).
func RecordChange(ctx context.Context, tx *store.Tx, userID int, kind EventKind, ec EventContext, details map[string]any) error {
	if err := RecordEvent(ctx, tx.Ent, userID, kind, ec, details); err != nil {
		return err
	}
	u, err := tx.Ent.User.Get(ctx, userID)
	if err != nil {
		return fmt.Errorf("account: audit %s of user %d: %w", kind, userID, err)
	}
	d := make(map[string]any, len(details)+2)
	for k, v := range details {
		d[k] = v
	}
	if ec.IP != "" {
		d["ip"] = ec.IP
	}
	if ec.Device != "" {
		d["browser"] = ec.Device // DetailDevice may already name a revoked device
	}
	_, err = audit.Append(ctx, tx, audit.Entry{
		ActorID:    &u.ID,
		ActorLabel: "user " + u.Username,
		Action:     "account." + string(kind),
		TargetType: "user",
		TargetID:   strconv.Itoa(u.ID),
		Details:    d,
	})
	if err != nil {
		return fmt.Errorf("account: audit %s of user %d: %w", kind, userID, err)
	}
	return nil
}

// DefaultEventLimit is ListEvents' limit when given 0; MaxEventLimit caps it.
const (
	DefaultEventLimit = 50
	MaxEventLimit     = 1000
)

// ListEvents returns userID's latest events, newest first.
func ListEvents(ctx context.Context, client *ent.Client, userID int, limit int) ([]Event, error) {
	if limit <= 0 {
		limit = DefaultEventLimit
	}
	limit = min(limit, MaxEventLimit)
	rows, err := client.SecurityEvent.Query().
		Where(securityevent.UserID(userID)).
		Order(ent.Desc(securityevent.FieldCreatedAt), ent.Desc(securityevent.FieldID)).
		Limit(limit).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("account: list events of user %d: %w", userID, err)
	}
	events := make([]Event, len(rows))
	for i, r := range rows {
		kind := EventKind(r.Kind)
		events[i] = Event{
			ID:          r.ID,
			Time:        r.CreatedAt,
			Kind:        kind,
			Description: kind.Describe(),
			IP:          r.IP,
			UserAgent:   r.UserAgent,
			Device:      detailString(r.Details, DetailDevice),
			Method:      detailString(r.Details, DetailMethod),
			Reason:      detailString(r.Details, DetailReason),
			Details:     r.Details,
		}
	}
	return events, nil
}

func detailString(details map[string]any, key string) string {
	s, _ := details[key].(string)
	return s
}

// SummarizeUserAgent turns a User-Agent header into a short label such as
// "Firefox 128 on Linux", for Event.Device and security emails; the raw
// header is long and, coming from the client, proves nothing anyway.
func SummarizeUserAgent(ua string) string {
	browser := uaProduct(ua)
	platform := uaPlatform(ua)
	switch {
	case browser == "" && platform == "":
		return "an unknown browser"
	case browser == "":
		return "a browser on " + platform
	case platform == "":
		return browser
	}
	return browser + " on " + platform
}

// uaProduct finds the browser; order matters, since Edge and Opera also
// claim Chrome, and Chrome also claims Safari.
func uaProduct(ua string) string {
	for _, p := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"},
		{"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
		{"SamsungBrowser/", "Samsung Internet"}, {"Chromium/", "Chromium"},
		{"HeadlessChrome/", "Headless Chrome"}, {"Chrome/", "Chrome"}, {"CriOS/", "Chrome"},
		{"Version/", "Safari"}, {"curl/", "curl"},
	} {
		i := strings.Index(ua, p.token)
		if i < 0 {
			continue
		}
		if p.name == "Safari" && !strings.Contains(ua, "Safari/") {
			continue
		}
		version := ua[i+len(p.token):]
		if end := strings.IndexAny(version, ". ;)"); end >= 0 {
			version = version[:end]
		}
		if version == "" || strings.Trim(version, "0123456789") != "" {
			return p.name
		}
		return p.name + " " + version
	}
	return ""
}

func uaPlatform(ua string) string {
	for _, p := range []struct{ token, name string }{
		{"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Android", "Android"}, {"CrOS", "ChromeOS"},
		{"Windows", "Windows"}, {"Macintosh", "macOS"}, {"Mac OS X", "macOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, p.token) {
			return p.name
		}
	}
	return ""
}
