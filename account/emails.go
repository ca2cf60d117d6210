package account

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/actiontoken"
	"github.com/recoverydesk/recoverydesk/ent/emailaddress"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/ratelimit"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// The addresses of an account after sign-up. Adding, making primary and
// removing are sensitive (the primary address receives password-reset
// links), so the caller checks Security.RequireReauth first; re-sending a
// verification link is not. Every change locks the user row, so two
// requests at once cannot exceed MaxEmailAddresses or leave two primaries.

// MaxEmailAddresses is how many addresses, verified or not, an account may
// have.
const MaxEmailAddresses = 5

// Details of the email events: the address concerned, and for
// EventPrimaryEmailChanged the primary address before the change.
const (
	DetailAddress         = "address"
	DetailPreviousAddress = "previous_address"
)

// The refusals of the email-address changes; the text after "account: "
// is written for people.
var (
	ErrEmailUnverified      = errors.New("account: verify this address before making it primary")
	ErrEmailPrimary         = errors.New("account: the primary address cannot be removed; make another address primary first")
	ErrEmailAlreadyVerified = errors.New("account: this address is already verified")
)

// EmailInfo is an address as the security page lists it.
type EmailInfo struct {
	ID      int
	Address string
	Primary bool
	Added   time.Time
	// VerifiedAt is zero while the address is unverified.
	VerifiedAt time.Time
}

// Verified reports whether the address was verified.
func (e EmailInfo) Verified() bool { return !e.VerifiedAt.IsZero() }

// ListEmails returns userID's addresses, the primary one first, then in
// the order they were added.
func (a *Accounts) ListEmails(ctx context.Context, userID int) ([]EmailInfo, error) {
	return listEmails(ctx, a.st.Ent, userID)
}

func listEmails(ctx context.Context, client *ent.Client, userID int) ([]EmailInfo, error) {
	rows, err := client.EmailAddress.Query().
		Where(emailaddress.UserID(userID)).
		Order(ent.Desc(emailaddress.FieldPrimary), ent.Asc(emailaddress.FieldCreatedAt), ent.Asc(emailaddress.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("account: emails of user %d: %w", userID, err)
	}
	out := make([]EmailInfo, len(rows))
	for i, r := range rows {
		out[i] = EmailInfo{ID: r.ID, Address: r.Address, Primary: r.Primary, Added: r.CreatedAt}
		if r.VerifiedAt != nil {
			out[i].VerifiedAt = *r.VerifiedAt
		}
	}
	return out, nil
}

// AddEmail adds an unverified, non-primary address to userID's account,
// mails the verification link to it and the "new email address" notice to
// every address the account had verified. Problems with the address come
// back as FieldErrors{"email": ...}.
func (a *Accounts) AddEmail(ctx context.Context, userID int, address string, at Attempt) error {
	email, msg := parseAddress(address)
	if msg != "" {
		return FieldErrors{"email": msg}
	}
	norm := NormalizeEmail(email)
	return a.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		u, err := lockUser(ctx, tx.Ent, userID)
		if err != nil {
			return err
		}
		have, err := tx.Ent.EmailAddress.Query().Where(emailaddress.UserID(userID)).All(ctx)
		if err != nil {
			return fmt.Errorf("account: emails of user %d: %w", userID, err)
		}
		for _, e := range have {
			if e.AddressNormalized == norm {
				return FieldErrors{"email": "This address is already on your account."}
			}
		}
		if len(have) >= MaxEmailAddresses {
			return FieldErrors{"email": "An account can have at most " + strconv.Itoa(MaxEmailAddresses) + " email addresses. Remove one first."}
		}
		taken, err := tx.Ent.EmailAddress.Query().Where(emailaddress.AddressNormalized(norm), emailaddress.VerifiedAtNotNil()).Exist(ctx)
		if err != nil {
			return fmt.Errorf("account: check email: %w", err)
		}
		if taken {
			return FieldErrors{"email": "This address belongs to another account."}
		}
		if err := tx.Ent.EmailAddress.Create().SetUserID(userID).SetAddress(email).SetAddressNormalized(norm).Exec(ctx); err != nil {
			return fmt.Errorf("account: add email of user %d: %w", userID, err)
		}
		if err := RecordChange(ctx, tx, userID, EventEmailAdded, at.events(), map[string]any{DetailAddress: email}); err != nil {
			return err
		}
		if err := a.sendVerification(ctx, tx, u, email); err != nil {
			return err
		}
		// The notice warns the owner if someone else added the address;
		// unverified addresses may be typos or strangers' and get nothing.
		for _, e := range have {
			if e.VerifiedAt == nil {
				continue
			}
			to := mail.Address{Name: u.DisplayName, Address: e.Address}
			if err := a.mailer.SendEmailAdded(ctx, tx, to, EmailAddedMail{UserID: userID, Username: u.Username, Address: email, Origin: at.origin(a.now())}); err != nil {
				return err
			}
		}
		return nil
	})
}

// MakePrimary makes a verified address of userID the primary one, where
// security mail and password-reset links go. The previous primary address
// stays on the account and, if verified, is told of the change. It returns
// ErrNotFound for an address that is not the user's and ErrEmailUnverified
// for one not verified yet; making the primary address primary does
// nothing.
func (a *Accounts) MakePrimary(ctx context.Context, userID, emailID int, at Attempt) error {
	return a.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		u, err := lockUser(ctx, tx.Ent, userID)
		if err != nil {
			return err
		}
		next, err := userEmail(ctx, tx.Ent, userID, emailID)
		if err != nil {
			return err
		}
		if next.VerifiedAt == nil {
			return ErrEmailUnverified
		}
		if next.Primary {
			return nil
		}
		prev, err := tx.Ent.EmailAddress.Query().Where(emailaddress.UserID(userID), emailaddress.Primary(true)).All(ctx)
		if err != nil {
			return fmt.Errorf("account: primary email of user %d: %w", userID, err)
		}
		if _, err := tx.Ent.EmailAddress.Update().Where(emailaddress.UserID(userID), emailaddress.Primary(true)).SetPrimary(false).Save(ctx); err != nil {
			return fmt.Errorf("account: unset primary email of user %d: %w", userID, err)
		}
		if err := tx.Ent.EmailAddress.UpdateOneID(next.ID).SetPrimary(true).Exec(ctx); err != nil {
			return fmt.Errorf("account: set primary email %d of user %d: %w", next.ID, userID, err)
		}
		details := map[string]any{DetailAddress: next.Address}
		if len(prev) > 0 {
			details[DetailPreviousAddress] = prev[0].Address
		}
		if err := RecordChange(ctx, tx, userID, EventPrimaryEmailChanged, at.events(), details); err != nil {
			return err
		}
		for _, p := range prev {
			if p.VerifiedAt == nil {
				continue
			}
			to := mail.Address{Name: u.DisplayName, Address: p.Address}
			if err := a.mailer.SendPrimaryEmailChanged(ctx, tx, to, PrimaryEmailChangedMail{UserID: userID, Username: u.Username, Address: next.Address, Origin: at.origin(a.now())}); err != nil {
				return err
			}
		}
		return nil
	})
}

// RemoveEmail removes an address of userID other than the primary one
// (ErrEmailPrimary); its pending verification links stop working.
func (a *Accounts) RemoveEmail(ctx context.Context, userID, emailID int, at Attempt) error {
	return a.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		if _, err := lockUser(ctx, tx.Ent, userID); err != nil {
			return err
		}
		e, err := userEmail(ctx, tx.Ent, userID, emailID)
		if err != nil {
			return err
		}
		if e.Primary {
			return ErrEmailPrimary
		}
		if err := tx.Ent.EmailAddress.DeleteOneID(e.ID).Exec(ctx); err != nil {
			return fmt.Errorf("account: remove email %d of user %d: %w", e.ID, userID, err)
		}
		if err := revokeVerificationLinks(ctx, tx.Ent, userID, e.Address, a.now()); err != nil {
			return err
		}
		return RecordChange(ctx, tx, userID, EventEmailRemoved, at.events(), map[string]any{DetailAddress: e.Address})
	})
}

// ResendVerification mails a new verification link to an unverified
// address of userID, at most ratelimit.VerificationResend times per
// account (*RateLimitedError beyond). Older links to that same address are
// voided, so only the newest works; links to the account's other pending
// addresses are left alone, since each was sent to a different inbox.
func (a *Accounts) ResendVerification(ctx context.Context, userID, emailID int, at Attempt) error {
	e, err := userEmail(ctx, a.st.Ent, userID, emailID)
	if err != nil {
		return err
	}
	if e.VerifiedAt != nil {
		return ErrEmailAlreadyVerified
	}
	if err := limitErr(a.limits.Allow(ctx, ratelimit.Key("verification-resend", "user", strconv.Itoa(userID)), ratelimit.VerificationResend)); err != nil {
		return err
	}
	return a.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		u, err := lockUser(ctx, tx.Ent, userID)
		if err != nil {
			return err
		}
		// Re-read under the lock: the address may have been removed or
		// verified since.
		e, err := userEmail(ctx, tx.Ent, userID, emailID)
		if err != nil {
			return err
		}
		if e.VerifiedAt != nil {
			return ErrEmailAlreadyVerified
		}
		if err := revokeVerificationLinks(ctx, tx.Ent, userID, e.Address, a.now()); err != nil {
			return err
		}
		return a.sendVerification(ctx, tx, u, e.Address)
	})
}

// lockUser reads userID's row FOR UPDATE, serialising changes to the
// account's addresses.
func lockUser(ctx context.Context, client *ent.Client, userID int) (*ent.User, error) {
	u, err := client.User.Query().Where(user.ID(userID)).ForUpdate().Only(ctx)
	if err != nil {
		return nil, fmt.Errorf("account: lock user %d: %w", userID, err)
	}
	return u, nil
}

// userEmail is address emailID if it belongs to userID, else ErrNotFound.
func userEmail(ctx context.Context, client *ent.Client, userID, emailID int) (*ent.EmailAddress, error) {
	e, err := client.EmailAddress.Query().Where(emailaddress.ID(emailID), emailaddress.UserID(userID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("account: email %d of user %d: %w", emailID, userID, err)
	}
	return e, nil
}

// revokeVerificationLinks voids the live verification links of userID
// sent to address (RevokeTokens would void those of every address).
func revokeVerificationLinks(ctx context.Context, client *ent.Client, userID int, address string, now time.Time) error {
	err := client.ActionToken.Update().
		Where(
			actiontoken.UserID(userID),
			actiontoken.PurposeEQ(actiontoken.Purpose(TokenEmailVerification)),
			actiontoken.EmailEqualFold(address),
			actiontoken.UsedAtIsNil(),
			actiontoken.ExpiresAtGT(now),
		).
		SetExpiresAt(now).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("account: void verification links of user %d: %w", userID, err)
	}
	return nil
}
