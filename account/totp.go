package account

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	stdsql "database/sql"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/totpcredential"
	"github.com/recoverydesk/recoverydesk/ent/user"
)

// TOTP parameters (RFC 6238 defaults, which every authenticator app
// supports; apps ignore or mishandle anything else).
const (
	// TOTPDigits is the length of a code.
	TOTPDigits = 6
	// TOTPPeriod is how long one code is valid.
	TOTPPeriod = 30 * time.Second
	// TOTPSkew is how many steps before and after now are accepted, for
	// phone clocks that drift and for codes typed near a step's end.
	TOTPSkew = 1
	// totpSecretBytes is 160 bits, the HMAC-SHA-1 block RFC 4226 advises.
	totpSecretBytes = 20
)

// Errors of checking a TOTP code; the web layer maps each to a message.
var (
	// ErrTOTPMalformed: the input is not a 6-digit code.
	ErrTOTPMalformed = errors.New("account: enter the 6-digit code from your authenticator app")
	// ErrTOTPInvalid: a well-formed code that does not match.
	ErrTOTPInvalid = errors.New("account: that code is not correct")
	// ErrTOTPReplayed: the code matched, but it (or a newer one) was used
	// already; codes are single-use.
	ErrTOTPReplayed = errors.New("account: that code was already used; wait for the next one")
)

// NewTOTPSecret returns a fresh random 160-bit secret.
func NewTOTPSecret() ([]byte, error) {
	secret := make([]byte, totpSecretBytes)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("account: TOTP secret: %w", err)
	}
	return secret, nil
}

// TOTPStep is the RFC 6238 time step of t (T0 = 0, 30 s steps).
func TOTPStep(t time.Time) int64 {
	period := int64(TOTPPeriod / time.Second)
	s := t.Unix()
	// Floor, not truncation, so steps stay monotonic before 1970 too.
	if s < 0 {
		return (s - period + 1) / period
	}
	return s / period
}

// TOTPCode is the 6-digit code of secret for a time step.
func TOTPCode(secret []byte, step int64) string {
	return HOTP(secret, uint64(step), TOTPDigits)
}

// HOTP is the RFC 4226 one-time password (HMAC-SHA-1, dynamic truncation)
// of secret for counter, as a zero-padded string of digits; digits must
// be 1 to 9 (a programming error otherwise, so it panics).
func HOTP(secret []byte, counter uint64, digits int) string {
	if digits < 1 || digits > 9 {
		panic(fmt.Sprintf("account: HOTP with %d digits", digits))
	}
	mac := hmac.New(sha1.New, secret)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	offset := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[offset:offset+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

// MatchTOTP checks code against secret for the steps around now and
// returns the step it matched. A code whose step is not newer than
// lastStep (the last accepted one) is refused with ErrTOTPReplayed, so a
// code works once and an older code never works after a newer one.
func MatchTOTP(secret []byte, code string, now time.Time, lastStep int64) (int64, error) {
	code, ok := normalizeTOTPCode(code)
	if !ok {
		return 0, ErrTOTPMalformed
	}
	current := TOTPStep(now)
	var matched, replayed bool
	var step int64
	// Every candidate is computed and compared, so timing says nothing
	// about which step (if any) matched.
	for s := current - TOTPSkew; s <= current+TOTPSkew; s++ {
		if subtle.ConstantTimeCompare([]byte(TOTPCode(secret, s)), []byte(code)) != 1 {
			continue
		}
		if s <= lastStep {
			replayed = true
			continue
		}
		// The oldest acceptable step: recording a later one than needed
		// would refuse the user's next, still valid, code.
		if !matched {
			matched, step = true, s
		}
	}
	switch {
	case matched:
		return step, nil
	case replayed:
		return 0, ErrTOTPReplayed
	}
	return 0, ErrTOTPInvalid
}

// normalizeTOTPCode drops white space ("123 456" as apps display it) and
// reports whether what remains is exactly TOTPDigits ASCII digits.
func normalizeTOTPCode(code string) (string, bool) {
	if len(code) > 64 {
		return "", false
	}
	code = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, code)
	if len(code) != TOTPDigits {
		return "", false
	}
	for i := range len(code) {
		if code[i] < '0' || code[i] > '9' {
			return "", false
		}
	}
	return code, true
}

// totpEncoding is the RFC 4648 base32 alphabet without padding, which the
// Key URI format requires.
var totpEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// TOTPKeyURI is the otpauth:// URI an authenticator app reads from the QR
// code (Google Authenticator's Key URI format, which all apps follow).
func TOTPKeyURI(issuer, accountName string, secret []byte) string {
	label := keyURIEscape(issuer) + ":" + keyURIEscape(accountName)
	return "otpauth://totp/" + label +
		"?secret=" + totpEncoding.EncodeToString(secret) +
		"&issuer=" + keyURIEscape(issuer) +
		"&algorithm=SHA1" +
		fmt.Sprintf("&digits=%d&period=%d", TOTPDigits, int(TOTPPeriod/time.Second))
}

// keyURIEscape percent-encodes everything but unreserved characters; a
// space becomes %20, not "+", which some apps show literally, and a colon
// is escaped so it cannot split the label.
func keyURIEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// FormatTOTPSecret is the secret for typing into an app by hand: base32
// without padding, in groups of four ("JBSW Y3DP EHPK 3PXP").
func FormatTOTPSecret(secret []byte) string {
	enc := totpEncoding.EncodeToString(secret)
	var b strings.Builder
	for i := 0; i < len(enc); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(enc[i:min(i+4, len(enc))])
	}
	return b.String()
}

// Errors of TOTP enrolment and sign-in.
var (
	// ErrTOTPAlreadyEnrolled: the user has a confirmed authenticator app;
	// it must be removed before another is set up.
	ErrTOTPAlreadyEnrolled = errors.New("account: an authenticator app is already set up")
	// ErrTOTPNotEnrolled: the user has no confirmed authenticator app.
	ErrTOTPNotEnrolled = errors.New("account: no authenticator app is set up")
	// ErrTOTPEnrolmentNotStarted: a confirmation arrived with no pending
	// enrolment (never started, or removed meanwhile).
	ErrTOTPEnrolmentNotStarted = errors.New("account: authenticator setup was not started or has been cancelled; start again")
)

// TOTP stores authenticator-app credentials: enrolment, sign-in checks with
// replay protection, removal.
type TOTP struct {
	client *ent.Client
	now    func() time.Time
}

// NewTOTP returns the TOTP service; now may be nil (time.Now).
func NewTOTP(client *ent.Client, now func() time.Time) *TOTP {
	if now == nil {
		now = time.Now
	}
	return &TOTP{client: client, now: now}
}

// StartEnrolment gives the user a new unconfirmed secret to load into an
// app, replacing any earlier unconfirmed one; a confirmed credential is
// never replaced (ErrTOTPAlreadyEnrolled).
func (s *TOTP) StartEnrolment(ctx context.Context, userID int) ([]byte, error) {
	secret, err := NewTOTPSecret()
	if err != nil {
		return nil, err
	}
	// One statement, so a confirmation racing with it either lands first
	// (and this refuses) or confirms nothing (its code is for the old secret).
	err = s.client.TOTPCredential.Create().
		SetUserID(userID).
		SetSecret(secret).
		SetLastUsedStep(0).
		SetCreatedAt(s.now()).
		OnConflict(
			entsql.ConflictColumns(totpcredential.FieldUserID),
			entsql.ResolveWithNewValues(),
			entsql.UpdateWhere(entsql.IsNull(totpcredential.FieldConfirmedAt)),
		).
		Exec(ctx)
	switch {
	case errors.Is(err, stdsql.ErrNoRows):
		// The conflicting row is confirmed: the WHERE kept it.
		return nil, ErrTOTPAlreadyEnrolled
	case err != nil:
		return nil, fmt.Errorf("account: start TOTP enrolment of user %d: %w", userID, err)
	}
	return secret, nil
}

// PendingSecret returns the unconfirmed secret of the user's enrolment, so
// the setup page can show the same QR code again after a mistyped code.
func (s *TOTP) PendingSecret(ctx context.Context, userID int) ([]byte, error) {
	cred, err := s.client.TOTPCredential.Query().
		Where(totpcredential.UserID(userID), totpcredential.ConfirmedAtIsNil()).
		Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return nil, ErrTOTPEnrolmentNotStarted
	case err != nil:
		return nil, fmt.Errorf("account: load pending TOTP of user %d: %w", userID, err)
	}
	return cred.Secret, nil
}

// ConfirmEnrolment turns the pending secret into the user's second factor
// once code proves the app produces matching codes; that code is then
// used up. client may be a transaction's client (nil: the service's).
func (s *TOTP) ConfirmEnrolment(ctx context.Context, client *ent.Client, userID int, code string) error {
	if client == nil {
		client = s.client
	}
	cred, err := client.TOTPCredential.Query().Where(totpcredential.UserID(userID)).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return ErrTOTPEnrolmentNotStarted
	case err != nil:
		return fmt.Errorf("account: load pending TOTP of user %d: %w", userID, err)
	case cred.ConfirmedAt != nil:
		return ErrTOTPAlreadyEnrolled
	}
	step, err := MatchTOTP(cred.Secret, code, s.now(), cred.LastUsedStep)
	if err != nil {
		return err
	}
	// Only the secret the code was checked against may be confirmed: a
	// restarted enrolment replaced it, and the user must scan the new one.
	n, err := client.TOTPCredential.Update().
		Where(totpcredential.UserID(userID), totpcredential.ConfirmedAtIsNil(), totpcredential.SecretEQ(cred.Secret)).
		SetConfirmedAt(s.now()).
		SetLastUsedStep(step).
		Save(ctx)
	if err != nil {
		return fmt.Errorf("account: confirm TOTP of user %d: %w", userID, err)
	}
	if n == 0 {
		confirmed, err := client.TOTPCredential.Query().
			Where(totpcredential.UserID(userID), totpcredential.ConfirmedAtNotNil()).
			Exist(ctx)
		if err != nil {
			return fmt.Errorf("account: recheck TOTP of user %d: %w", userID, err)
		}
		if confirmed {
			return ErrTOTPAlreadyEnrolled
		}
		return ErrTOTPInvalid
	}
	return nil
}

// Verify checks a sign-in code against the user's confirmed credential and
// uses it up. client may be a transaction's client (nil: the service's).
func (s *TOTP) Verify(ctx context.Context, client *ent.Client, userID int, code string) error {
	if client == nil {
		client = s.client
	}
	cred, err := client.TOTPCredential.Query().
		Where(totpcredential.UserID(userID), totpcredential.ConfirmedAtNotNil()).
		Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return ErrTOTPNotEnrolled
	case err != nil:
		return fmt.Errorf("account: load TOTP of user %d: %w", userID, err)
	}
	step, err := MatchTOTP(cred.Secret, code, s.now(), cred.LastUsedStep)
	if err != nil {
		return err
	}
	// The read above may be stale: two sign-ins with the same code both
	// get here. The conditional write lets exactly one of them record the
	// step; PostgreSQL re-checks the WHERE after waiting for the other.
	n, err := client.TOTPCredential.Update().
		Where(
			totpcredential.UserID(userID),
			totpcredential.ConfirmedAtNotNil(),
			totpcredential.LastUsedStepLT(step),
		).
		SetLastUsedStep(step).
		Save(ctx)
	if err != nil {
		return fmt.Errorf("account: record TOTP step of user %d: %w", userID, err)
	}
	if n == 0 {
		return ErrTOTPReplayed
	}
	return nil
}

// Remove deletes the user's authenticator app (or a pending enrolment),
// refusing with ErrLastSecondFactor when it is the only second factor.
// Pass a transaction's client so the check holds until the delete: the
// user row is locked, which serialises it with other factor removals that
// lock it too.
func (s *TOTP) Remove(ctx context.Context, client *ent.Client, userID int) error {
	if client == nil {
		client = s.client
	}
	if _, err := client.User.Query().Where(user.ID(userID)).ForUpdate().OnlyID(ctx); err != nil {
		return fmt.Errorf("account: lock user %d: %w", userID, err)
	}
	factors, err := LoadSecondFactors(ctx, client, userID)
	if err != nil {
		return err
	}
	if factors.TOTP && factors.Count() <= 1 {
		return ErrLastSecondFactor
	}
	n, err := client.TOTPCredential.Delete().Where(totpcredential.UserID(userID)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("account: remove TOTP of user %d: %w", userID, err)
	}
	if n == 0 {
		return ErrTOTPNotEnrolled
	}
	return nil
}
