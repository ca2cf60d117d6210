package account

import (
	"context"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"time"

	"github.com/recoverydesk/recoverydesk/account/mailtemplates"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// The security emails. Each is rendered from account/mailtemplates (plain
// text and HTML) and queued in the caller's transaction, so the change it
// reports and the mail commit together. The purposes name the templates
// and are stored on OutboundMail.

// Purposes of the security emails.
const (
	MailEmailVerification      = "email_verification"
	MailPasswordReset          = "password_reset"
	MailPasswordChanged        = "password_changed"
	MailSecondFactorAdded      = "second_factor_added"
	MailSecondFactorRemoved    = "second_factor_removed"
	MailRecoveryCodesGenerated = "recovery_codes_generated"
	MailRecoveryCodeUsed       = "recovery_code_used"
	MailUnrecognizedLogin      = "unrecognized_login"
	MailEmailAdded             = "email_added"
)

// Paths of the pages the emails link to; web's routes use the same ones.
const (
	PathVerifyEmail    = "/verify-email"   // ?token=: verifies an address
	PathPasswordReset  = "/password-reset" // the request form; ?token=: choose a new password
	PathConfirmLogin   = "/login/confirm"  // ?token=: confirms a held login
	PathChangePassword = "/account/password"
	PathSecurity       = "/account/security"
	PathRecover        = "/recover"
)

// Mailer renders and queues the security emails.
type Mailer struct {
	outbox   *mailbox.Outbox
	siteName string
	baseURL  *url.URL
	tmpl     *mailtemplates.Set
}

// NewMailer returns a Mailer; baseURL is the site's absolute public URL,
// which every link in the emails starts with. It panics only if the
// embedded templates do not parse, which the tests rule out.
func NewMailer(outbox *mailbox.Outbox, siteName string, baseURL *url.URL) *Mailer {
	tmpl, err := mailtemplates.Parse(nil)
	if err != nil {
		panic(err)
	}
	return &Mailer{outbox: outbox, siteName: siteName, baseURL: baseURL, tmpl: tmpl}
}

// MailOrigin says when and from where a change was made, for the facts of a
// security email.
type MailOrigin struct {
	// At is the time of the change; zero means now.
	At        time.Time
	IP        string
	UserAgent string
}

// EmailVerificationMail is the link that verifies an address; it is sent
// to that address.
type EmailVerificationMail struct {
	UserID   int
	Username string
	// Token is from IssueToken(TokenEmailVerification); TTL its lifetime,
	// 0 meaning EmailVerificationTTL.
	Token string
	TTL   time.Duration
}

// SendEmailVerification queues the email-verification mail to to.
func (m *Mailer) SendEmailVerification(ctx context.Context, tx *store.Tx, to mail.Address, p EmailVerificationMail) error {
	d := m.data(p.Username, MailOrigin{})
	d.Address = to.Address
	d.Link = m.link(PathVerifyEmail, p.Token)
	d.Expires = humanDuration(orTTL(p.TTL, EmailVerificationTTL))
	d.Action = "Verify this address"
	return m.queue(ctx, tx, to, MailEmailVerification, p.UserID, d)
}

// PasswordResetMail is the link that lets a user choose a new password.
type PasswordResetMail struct {
	UserID   int
	Username string
	// Token is from IssueToken(TokenPasswordReset); TTL its lifetime, 0
	// meaning PasswordResetTTL.
	Token string
	TTL   time.Duration
}

// SendPasswordReset queues the password-reset mail to to.
func (m *Mailer) SendPasswordReset(ctx context.Context, tx *store.Tx, to mail.Address, p PasswordResetMail) error {
	d := m.data(p.Username, MailOrigin{})
	d.Link = m.link(PathPasswordReset, p.Token)
	d.Expires = humanDuration(orTTL(p.TTL, PasswordResetTTL))
	d.Action = "Choose a new password"
	return m.queue(ctx, tx, to, MailPasswordReset, p.UserID, d)
}

// PasswordChangedMail reports a password change (or reset).
type PasswordChangedMail struct {
	UserID   int
	Username string
	Origin   MailOrigin
}

// SendPasswordChanged queues the password-changed notice to to.
func (m *Mailer) SendPasswordChanged(ctx context.Context, tx *store.Tx, to mail.Address, p PasswordChangedMail) error {
	return m.queue(ctx, tx, to, MailPasswordChanged, p.UserID, m.data(p.Username, p.Origin))
}

// SecondFactorMail reports a second factor added or removed.
type SecondFactorMail struct {
	UserID   int
	Username string
	// Method is "totp", "webauthn" (a security key) or "passkey"; Name is
	// the key's name, if any.
	Method string
	Name   string
	Origin MailOrigin
}

// SendSecondFactorAdded queues the "2FA method added" notice to to.
func (m *Mailer) SendSecondFactorAdded(ctx context.Context, tx *store.Tx, to mail.Address, p SecondFactorMail) error {
	d := m.data(p.Username, p.Origin)
	d.Method = describeSecondFactor(p.Method, p.Name)
	return m.queue(ctx, tx, to, MailSecondFactorAdded, p.UserID, d)
}

// SendSecondFactorRemoved queues the "2FA method removed" notice to to.
func (m *Mailer) SendSecondFactorRemoved(ctx context.Context, tx *store.Tx, to mail.Address, p SecondFactorMail) error {
	d := m.data(p.Username, p.Origin)
	d.Method = describeSecondFactor(p.Method, p.Name)
	return m.queue(ctx, tx, to, MailSecondFactorRemoved, p.UserID, d)
}

// RecoveryCodesMail reports a new set of recovery codes.
type RecoveryCodesMail struct {
	UserID   int
	Username string
	Origin   MailOrigin
}

// SendRecoveryCodesGenerated queues the "new recovery codes" notice to to.
func (m *Mailer) SendRecoveryCodesGenerated(ctx context.Context, tx *store.Tx, to mail.Address, p RecoveryCodesMail) error {
	return m.queue(ctx, tx, to, MailRecoveryCodesGenerated, p.UserID, m.data(p.Username, p.Origin))
}

// RecoveryCodeUsedMail reports a sign-in with a recovery code.
type RecoveryCodeUsedMail struct {
	UserID   int
	Username string
	// Remaining is how many unused codes are left.
	Remaining int
	Origin    MailOrigin
}

// SendRecoveryCodeUsed queues the "recovery code used" notice to to.
func (m *Mailer) SendRecoveryCodeUsed(ctx context.Context, tx *store.Tx, to mail.Address, p RecoveryCodeUsedMail) error {
	d := m.data(p.Username, p.Origin)
	d.Remaining = max(p.Remaining, 0)
	return m.queue(ctx, tx, to, MailRecoveryCodeUsed, p.UserID, d)
}

// UnrecognizedLoginMail asks to confirm a login held because it came from
// an unrecognized browser.
type UnrecognizedLoginMail struct {
	UserID   int
	Username string
	// Token is from IssueToken(TokenLoginConfirmation); TTL its lifetime,
	// 0 meaning LoginConfirmationTTL.
	Token  string
	TTL    time.Duration
	Origin MailOrigin
}

// SendUnrecognizedLogin queues the unrecognized-login mail to to; its
// subject is exactly "Unrecognized login to your SITE_NAME account".
func (m *Mailer) SendUnrecognizedLogin(ctx context.Context, tx *store.Tx, to mail.Address, p UnrecognizedLoginMail) error {
	d := m.data(p.Username, p.Origin)
	d.Link = m.link(PathConfirmLogin, p.Token)
	d.Expires = humanDuration(orTTL(p.TTL, LoginConfirmationTTL))
	d.Action = "Yes, this was me: confirm"
	return m.queue(ctx, tx, to, MailUnrecognizedLogin, p.UserID, d)
}

// EmailAddedMail reports a new address on the account; it goes to the
// addresses the account already had.
type EmailAddedMail struct {
	UserID   int
	Username string
	// Address is the new address.
	Address string
	Origin  MailOrigin
}

// SendEmailAdded queues the "new email address" notice to to.
func (m *Mailer) SendEmailAdded(ctx context.Context, tx *store.Tx, to mail.Address, p EmailAddedMail) error {
	d := m.data(p.Username, p.Origin)
	d.Address = p.Address
	return m.queue(ctx, tx, to, MailEmailAdded, p.UserID, d)
}

// mailData is what every template may use; each mail fills its part.
type mailData struct {
	SiteName, SiteURL, Username                    string
	SecurityURL, PasswordURL, ResetURL, RecoverURL string
	When, IP, Browser                              string
	Link, Action, Expires, Address, Method         string
	Remaining                                      int
	// The API token notices: the token's name, public prefix, scope and
	// expiry, in words.
	TokenName, TokenPrefix, TokenScope, TokenExpiry string
}

func (m *Mailer) data(username string, o MailOrigin) mailData {
	at := o.At
	if at.IsZero() {
		at = time.Now()
	}
	ip := o.IP
	if ip == "" {
		ip = "unknown"
	}
	return mailData{
		SiteName:    m.siteName,
		SiteURL:     m.baseURL.String(),
		Username:    username,
		SecurityURL: m.link(PathSecurity, ""),
		PasswordURL: m.link(PathChangePassword, ""),
		ResetURL:    m.link(PathPasswordReset, ""),
		RecoverURL:  m.link(PathRecover, ""),
		When:        at.UTC().Format("2 January 2006 at 15:04 UTC"),
		IP:          ip,
		Browser:     SummarizeUserAgent(o.UserAgent),
	}
}

// link is the absolute URL of path on the site, with ?token= if given.
func (m *Mailer) link(path, token string) string {
	u := m.baseURL.JoinPath(path)
	u.RawQuery, u.Fragment = "", ""
	if token != "" {
		u.RawQuery = url.Values{"token": {token}}.Encode()
	}
	return u.String()
}

func (m *Mailer) queue(ctx context.Context, tx *store.Tx, to mail.Address, purpose string, userID int, d mailData) error {
	r, err := m.tmpl.Render(purpose, d)
	if err != nil {
		return fmt.Errorf("account: %s mail: %w", purpose, err)
	}
	msg := mailbox.Mail{To: to, Subject: r.Subject, Text: r.Text, HTML: r.HTML, Purpose: purpose}
	if userID != 0 {
		msg.UserID = &userID
	}
	if _, err := m.outbox.Queue(ctx, tx, msg); err != nil {
		return fmt.Errorf("account: %s mail: %w", purpose, err)
	}
	return nil
}

// describeSecondFactor names a method for the start of a sentence.
func describeSecondFactor(method, name string) string {
	var what string
	switch method {
	case "totp":
		return "An authenticator app (TOTP)"
	case "webauthn":
		what = "The security key"
	case "passkey":
		what = "The passkey"
	default:
		what = "The second factor " + strconv.Quote(method)
	}
	if name != "" {
		what += " " + strconv.Quote(name)
	}
	return what
}

func orTTL(ttl, def time.Duration) time.Duration {
	if ttl > 0 {
		return ttl
	}
	return def
}

// humanDuration says 1 hour, 6 hours, 30 minutes, 2 days.
func humanDuration(d time.Duration) string {
	unit := func(n int64, name string) string {
		if n == 1 {
			return "1 " + name
		}
		return strconv.FormatInt(n, 10) + " " + name + "s"
	}
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return unit(int64(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	}
	return unit(int64((d+time.Minute-1)/time.Minute), "minute")
}
