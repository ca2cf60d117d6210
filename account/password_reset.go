package account

import (
	"context"
	"fmt"
	"net/mail"
	"strings"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/emailaddress"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/ratelimit"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// RequestPasswordReset mails a reset link (single use, PasswordResetTTL)
// to the verified primary address of the account named by a username or a
// verified address. It says nothing about whether such an account exists:
// the caller shows the same page either way. Older links are voided.
func (a *Accounts) RequestPasswordReset(ctx context.Context, who string, at Attempt) error {
	who = strings.TrimSpace(who)
	if who == "" {
		return FieldErrors{"who": "Enter your username or email address."}
	}
	if err := limitErr(a.limits.Allow(ctx, ratelimit.Key("reset", strings.ToLower(who)), ratelimit.PasswordReset)); err != nil {
		return err
	}
	u, err := a.findByUsernameOrEmail(ctx, who)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := limitErr(a.limits.Allow(ctx, ratelimit.Key("reset", "user", fmt.Sprint(u.ID)), ratelimit.PasswordReset)); err != nil {
		return err
	}
	return a.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		addr, err := tx.Ent.EmailAddress.Query().
			Where(emailaddress.UserID(u.ID), emailaddress.Primary(true), emailaddress.VerifiedAtNotNil()).
			First(ctx)
		if ent.IsNotFound(err) {
			return nil // no verified address: nowhere safe to send a link
		}
		if err != nil {
			return fmt.Errorf("account: address of user %d: %w", u.ID, err)
		}
		if err := RevokeTokens(ctx, tx.Ent, u.ID, TokenPasswordReset, a.now()); err != nil {
			return err
		}
		token, err := IssueToken(ctx, tx.Ent, TokenParams{Purpose: TokenPasswordReset, UserID: &u.ID, Email: addr.Address, TTL: PasswordResetTTL, Now: a.now()})
		if err != nil {
			return err
		}
		if err := RecordEvent(ctx, tx.Ent, u.ID, EventPasswordResetRequested, at.events(), nil); err != nil {
			return err
		}
		return a.mailer.SendPasswordReset(ctx, tx, mail.Address{Name: u.DisplayName, Address: addr.Address}, PasswordResetMail{UserID: u.ID, Username: u.Username, Token: token})
	})
}

// CheckResetToken says whether a reset link is still usable, for the page
// that asks for the new password.
func (a *Accounts) CheckResetToken(ctx context.Context, token string) error {
	_, err := PeekToken(ctx, a.st.Ent, TokenPasswordReset, token, a.now())
	return err
}

// ResetPassword consumes a reset link and sets the new password; every
// session and trusted device of the account is revoked.
func (a *Accounts) ResetPassword(ctx context.Context, token, password string, at Attempt) error {
	t, err := PeekToken(ctx, a.st.Ent, TokenPasswordReset, token, a.now())
	if err != nil {
		return err
	}
	if t.UserID == nil {
		return ErrTokenInvalid
	}
	u, err := a.st.Ent.User.Get(ctx, *t.UserID)
	if err != nil {
		return fmt.Errorf("account: user %d: %w", *t.UserID, err)
	}
	if err := CheckPassword(password, u.Username, localPartOf(t.Email)); err != nil {
		return FieldErrors{"password": passwordMessage(err)}
	}
	hash, err := a.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return a.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		if _, err := ConsumeToken(ctx, tx.Ent, TokenPasswordReset, token, a.now()); err != nil {
			return err
		}
		return a.setPassword(ctx, tx, u, hash, EventPasswordReset, at)
	})
}

// ChangePassword sets a new password for a signed-in user who
// re-authenticated (the caller checks Security.RequireReauth). All sessions
// and trusted devices are revoked; a fresh session for this browser is
// returned, so the person stays signed in here only.
func (a *Accounts) ChangePassword(ctx context.Context, userID int, password string, methods []string, at Attempt) (string, error) {
	u, err := a.st.Ent.User.Get(ctx, userID)
	if err != nil {
		return "", fmt.Errorf("account: user %d: %w", userID, err)
	}
	_, to, err := primaryAddress(ctx, a.st.Ent, userID)
	if err != nil {
		return "", err
	}
	if err := CheckPassword(password, u.Username, localPart(to.Address)); err != nil {
		return "", FieldErrors{"password": passwordMessage(err)}
	}
	hash, err := a.hasher.Hash(ctx, password)
	if err != nil {
		return "", err
	}
	var token string
	err = a.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := a.setPassword(ctx, tx, u, hash, EventPasswordChanged, at); err != nil {
			return err
		}
		token, err = a.sessions.Create(ctx, tx.Ent, userID, SessionMeta{IP: at.IP, UserAgent: at.UserAgent, AuthMethods: methods})
		return err
	})
	return token, err
}

// setPassword stores hash, revokes every session and trusted device, and
// records and mails the change.
func (a *Accounts) setPassword(ctx context.Context, tx *store.Tx, u *ent.User, hash string, kind EventKind, at Attempt) error {
	now := a.now()
	if err := tx.Ent.User.UpdateOneID(u.ID).SetPasswordHash(hash).SetPasswordChangedAt(now).Exec(ctx); err != nil {
		return fmt.Errorf("account: set password of user %d: %w", u.ID, err)
	}
	if _, err := a.sessions.RevokeAll(ctx, tx.Ent, u.ID); err != nil {
		return err
	}
	if err := revokeAllDevices(ctx, tx.Ent, u.ID, now); err != nil {
		return err
	}
	if err := RecordChange(ctx, tx, u.ID, kind, at.events(), nil); err != nil {
		return err
	}
	_, to, err := primaryAddress(ctx, tx.Ent, u.ID)
	if err != nil {
		return err
	}
	return a.mailer.SendPasswordChanged(ctx, tx, to, PasswordChangedMail{UserID: u.ID, Username: u.Username, Origin: at.origin(now)})
}

func (a *Accounts) findByUsernameOrEmail(ctx context.Context, who string) (*ent.User, error) {
	if strings.Contains(who, "@") {
		return a.st.Ent.User.Query().
			Where(user.HasEmailsWith(emailaddress.AddressNormalized(NormalizeEmail(who)), emailaddress.VerifiedAtNotNil())).
			First(ctx)
	}
	return a.st.Ent.User.Query().Where(user.UsernameNormalized(NormalizeUsername(who))).Only(ctx)
}

func localPartOf(email *string) string {
	if email == nil {
		return ""
	}
	return localPart(*email)
}

// limitErr turns a rate-limit decision into *RateLimitedError.
func limitErr(d ratelimit.Decision, err error) error {
	if err != nil {
		return fmt.Errorf("account: rate limit: %w", err)
	}
	if !d.Allowed {
		return &RateLimitedError{RetryAfter: d.RetryAfter}
	}
	return nil
}
