package account

import (
	"context"
	"fmt"

	"github.com/recoverydesk/recoverydesk/ent/emailaddress"
)

// CheckVerificationToken says whether an email-verification link would
// verify its address, without spending it: the page the link opens shows
// a problem at once, and only its button (VerifyEmail) uses the link. It
// returns what VerifyEmail would: ErrTokenInvalid, ErrTokenExpired,
// ErrTokenUsed (also when the address was verified or removed meanwhile)
// or ErrEmailTaken.
func (a *Accounts) CheckVerificationToken(ctx context.Context, token string) error {
	t, err := PeekToken(ctx, a.st.Ent, TokenEmailVerification, token, a.now())
	if err != nil {
		return err
	}
	if t.UserID == nil || t.Email == nil {
		return ErrTokenInvalid
	}
	norm := NormalizeEmail(*t.Email)
	taken, err := a.st.Ent.EmailAddress.Query().
		Where(emailaddress.AddressNormalized(norm), emailaddress.VerifiedAtNotNil(), emailaddress.UserIDNEQ(*t.UserID)).
		Exist(ctx)
	if err != nil {
		return fmt.Errorf("account: check email: %w", err)
	}
	if taken {
		return ErrEmailTaken
	}
	pending, err := a.st.Ent.EmailAddress.Query().
		Where(emailaddress.UserID(*t.UserID), emailaddress.AddressNormalized(norm), emailaddress.VerifiedAtIsNil()).
		Exist(ctx)
	if err != nil {
		return fmt.Errorf("account: check email of user %d: %w", *t.UserID, err)
	}
	if !pending {
		return ErrTokenUsed
	}
	return nil
}
