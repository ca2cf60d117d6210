package account

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/emailaddress"
	"github.com/recoverydesk/recoverydesk/ent/pendinglogin"
	"github.com/recoverydesk/recoverydesk/ent/recoverycode"
	"github.com/recoverydesk/recoverydesk/ent/session"
	"github.com/recoverydesk/recoverydesk/ent/totpcredential"
	"github.com/recoverydesk/recoverydesk/ent/trusteddevice"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/ent/webauthncredential"
	"github.com/recoverydesk/recoverydesk/internal/audit"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// AuditTwoFAReset is the audit action of a support 2FA reset.
const AuditTwoFAReset = "account.twofa_reset"

// TwoFAResetResult says what a support 2FA reset changed.
type TwoFAResetResult struct {
	// NewEmail is the address made primary, "" when none was asked for
	// or it could not be set (EmailSkipped says why).
	NewEmail     string
	EmailSkipped string
	Sessions     int
}

// ResetSecondFactors wipes userID's second factors after a support
// decision, in tx: the authenticator app, security keys and passkeys,
// recovery codes, trusted browsers, sessions and half-finished logins.
// newEmail, when set, is added as a verified address and made primary
// (unless another account has it verified by now). The next sign-in must
// enrol a second factor first (users.must_enroll_2fa). The change is
// recorded as a security event and an audit row by actorLabel.
func ResetSecondFactors(ctx context.Context, tx *store.Tx, userID int, newEmail *string, actorLabel string, now time.Time) (TwoFAResetResult, error) {
	var res TwoFAResetResult
	fail := func(what string, err error) (TwoFAResetResult, error) {
		return res, fmt.Errorf("account: 2FA reset of user %d: %s: %w", userID, what, err)
	}
	if _, err := lockUser(ctx, tx.Ent, userID); err != nil {
		return res, err
	}
	if _, err := tx.Ent.TOTPCredential.Delete().Where(totpcredential.UserID(userID)).Exec(ctx); err != nil {
		return fail("authenticator app", err)
	}
	keys, err := tx.Ent.WebAuthnCredential.Delete().Where(webauthncredential.UserID(userID)).Exec(ctx)
	if err != nil {
		return fail("security keys", err)
	}
	if _, err := tx.Ent.RecoveryCode.Delete().Where(recoverycode.UserID(userID)).Exec(ctx); err != nil {
		return fail("recovery codes", err)
	}
	// Sessions point at their trusted device, so devices are revoked
	// rather than deleted; a revoked device no longer skips anything.
	if _, err := tx.Ent.TrustedDevice.Update().
		Where(trusteddevice.UserID(userID), trusteddevice.RevokedAtIsNil()).
		SetRevokedAt(now).Save(ctx); err != nil {
		return fail("trusted browsers", err)
	}
	if res.Sessions, err = tx.Ent.Session.Update().
		Where(session.UserID(userID), session.RevokedAtIsNil()).
		SetRevokedAt(now).Save(ctx); err != nil {
		return fail("sessions", err)
	}
	if _, err := tx.Ent.PendingLogin.Delete().Where(pendinglogin.UserID(userID)).Exec(ctx); err != nil {
		return fail("pending logins", err)
	}
	if newEmail != nil && *newEmail != "" {
		if res.NewEmail, res.EmailSkipped, err = setResetEmail(ctx, tx.Ent, userID, *newEmail, now); err != nil {
			return fail("new email", err)
		}
	}
	if err := tx.Ent.User.UpdateOneID(userID).SetMustEnroll2fa(true).SetUpdatedAt(now).Exec(ctx); err != nil {
		return fail("enrolment flag", err)
	}
	details := map[string]any{"security_keys": keys, "sessions": res.Sessions}
	if res.NewEmail != "" {
		details[DetailAddress] = res.NewEmail
	}
	if res.EmailSkipped != "" {
		details["email_skipped"] = res.EmailSkipped
	}
	if err := RecordEvent(ctx, tx.Ent, userID, EventTwoFAReset, EventContext{}, details); err != nil {
		return res, err
	}
	if _, err := audit.Append(ctx, tx, audit.Entry{
		ActorLabel: actorLabel,
		Action:     AuditTwoFAReset,
		TargetType: "user",
		TargetID:   strconv.Itoa(userID),
		Details:    details,
		At:         now,
	}); err != nil {
		return fail("audit", err)
	}
	return res, nil
}

// setResetEmail makes address a verified primary address of userID. An
// address verified on another account meanwhile is left alone (skipped
// says why): two accounts never share a verified address.
func setResetEmail(ctx context.Context, client *ent.Client, userID int, address string, now time.Time) (set, skipped string, err error) {
	norm := NormalizeEmail(address)
	taken, err := client.EmailAddress.Query().
		Where(emailaddress.AddressNormalized(norm), emailaddress.VerifiedAtNotNil(), emailaddress.UserIDNEQ(userID)).
		Exist(ctx)
	if err != nil {
		return "", "", err
	}
	if taken {
		return "", "the address is verified on another account", nil
	}
	row, err := client.EmailAddress.Query().
		Where(emailaddress.UserID(userID), emailaddress.AddressNormalized(norm)).
		Only(ctx)
	switch {
	case ent.IsNotFound(err):
		row, err = client.EmailAddress.Create().
			SetUserID(userID).SetAddress(address).SetAddressNormalized(norm).
			SetVerifiedAt(now).SetCreatedAt(now).Save(ctx)
		if err != nil {
			return "", "", err
		}
	case err != nil:
		return "", "", err
	case row.VerifiedAt == nil:
		if err := client.EmailAddress.UpdateOneID(row.ID).SetVerifiedAt(now).Exec(ctx); err != nil {
			return "", "", err
		}
	}
	if _, err := client.EmailAddress.Update().
		Where(emailaddress.UserID(userID), emailaddress.Primary(true), emailaddress.IDNEQ(row.ID)).
		SetPrimary(false).Save(ctx); err != nil {
		return "", "", err
	}
	if err := client.EmailAddress.UpdateOneID(row.ID).SetPrimary(true).Exec(ctx); err != nil {
		return "", "", err
	}
	return row.Address, "", nil
}

// EnrolmentDue reports whether userID must enrol a second factor before
// using the site (their 2FA was reset by support). Once they have an
// authenticator app or a security key the flag is cleared and the answer
// is false.
func EnrolmentDue(ctx context.Context, client *ent.Client, userID int) (bool, error) {
	u, err := client.User.Query().Where(user.ID(userID)).Select(user.FieldMustEnroll2fa).Only(ctx)
	if err != nil {
		return false, fmt.Errorf("account: enrolment of user %d: %w", userID, err)
	}
	if !u.MustEnroll2fa {
		return false, nil
	}
	f, err := LoadSecondFactors(ctx, client, userID)
	if err != nil {
		return false, err
	}
	if !f.Enabled() {
		return true, nil
	}
	if err := client.User.UpdateOneID(userID).SetMustEnroll2fa(false).Exec(ctx); err != nil {
		return false, fmt.Errorf("account: clear enrolment flag of user %d: %w", userID, err)
	}
	return false, nil
}

// EnrolmentDue is EnrolmentDue on the security service's database.
func (s *Security) EnrolmentDue(ctx context.Context, userID int) (bool, error) {
	return EnrolmentDue(ctx, s.st.Ent, userID)
}
