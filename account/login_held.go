package account

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/emailaddress"
	"github.com/recoverydesk/recoverydesk/ent/pendinglogin"
	"github.com/recoverydesk/recoverydesk/ent/trusteddevice"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// TrustedDeviceTTL: a confirmed browser stays trusted until this long
// without use (or until revoked).
const TrustedDeviceTTL = 90 * 24 * time.Hour

// ResendInterval throttles re-sending the unrecognized-login email.
const ResendInterval = 15 * time.Minute

// ErrWrongBrowser: a confirmation link was opened in another browser than
// the one that started the login. Nothing is confirmed, so a phisher who
// relays the login cannot get it confirmed by the owner's click.
var ErrWrongBrowser = errors.New("account: this link only works in the browser where you signed in")

// ErrNoDeviceCookie: the browser sent no device cookie (cookies blocked).
var ErrNoDeviceCookie = errors.New("account: your browser did not keep our cookie; enable cookies for this site and sign in again")

// ResendTooSoonError refuses a re-send within ResendInterval.
type ResendTooSoonError struct{ At time.Time }

func (e *ResendTooSoonError) Error() string {
	return "account: the email was sent recently; you can ask for another at " + e.At.UTC().Format("15:04 UTC")
}

// NewDeviceToken returns a value for a browser's device cookie.
func NewDeviceToken() (string, error) {
	token, _, err := newToken()
	return token, err
}

func (a Attempt) origin(now time.Time) MailOrigin {
	return MailOrigin{At: now, IP: a.IP, UserAgent: a.UserAgent}
}

// complete signs the user in: it runs check (the last factor) in the same
// transaction, ends the half-finished login, creates a fresh session (a new
// ID at every login) and records the event.
func (l *Login) complete(ctx context.Context, pending *ent.Session, u *ent.User, methods []string, method string, check func(context.Context, *store.Tx, int) error, a Attempt) (Progress, error) {
	var p Progress
	err := l.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		if check != nil {
			if err := check(ctx, tx, u.ID); err != nil {
				return err
			}
		}
		if pending != nil {
			if err := l.endPending(ctx, tx.Ent, pending); err != nil {
				return err
			}
		}
		token, err := l.sessions.Create(ctx, tx.Ent, u.ID, SessionMeta{IP: a.IP, UserAgent: a.UserAgent, AuthMethods: methods})
		if err != nil {
			return err
		}
		if err := tx.Ent.User.UpdateOneID(u.ID).SetLastLoginAt(l.now()).Exec(ctx); err != nil {
			return fmt.Errorf("account: record login of user %d: %w", u.ID, err)
		}
		if err := RecordEvent(ctx, tx.Ent, u.ID, EventLoginSucceeded, a.events(), map[string]any{DetailMethod: method}); err != nil {
			return err
		}
		p = Progress{Stage: StageDone, UserID: u.ID, SessionToken: token, MustEnroll2FA: u.MustEnroll2fa}
		return nil
	})
	if err != nil {
		l.recordCheckFailure(ctx, u.ID, method, err, a)
		return Progress{}, err
	}
	return p, nil
}

// hold runs check, then parks the login until the emailed link is opened
// in this browser.
func (l *Login) hold(ctx context.Context, pending *ent.Session, st pendingState, u *ent.User, methods []string, method string, check func(context.Context, *store.Tx, int) error, a Attempt) (Progress, error) {
	if a.DeviceToken == "" {
		return Progress{}, ErrNoDeviceCookie
	}
	now := l.now()
	var p Progress
	err := l.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := check(ctx, tx, u.ID); err != nil {
			return err
		}
		link, linkHash, err := newToken()
		if err != nil {
			return err
		}
		held, err := tx.Ent.PendingLogin.Create().
			SetUserID(u.ID).
			SetDeviceHash(hashToken(a.DeviceToken)).
			SetTokenHash(linkHash).
			SetMethod(method).
			SetIP(a.IP).
			SetUserAgent(truncate(a.UserAgent, 512)).
			SetCreatedAt(now).
			SetExpiresAt(now.Add(LoginConfirmationTTL)).
			SetLastEmailSentAt(now).
			Save(ctx)
		if err != nil {
			return fmt.Errorf("account: hold login of user %d: %w", u.ID, err)
		}
		st.Stage, st.HeldID, st.Methods, st.Ceremony = StageHeld, held.ID, methods, nil
		if err := l.savePending(ctx, tx.Ent, pending, st, heldWindow); err != nil {
			return err
		}
		if err := RecordEvent(ctx, tx.Ent, u.ID, EventLoginHeld, a.events(), map[string]any{DetailMethod: method}); err != nil {
			return err
		}
		if err := l.sendConfirmation(ctx, tx, u.ID, link, a); err != nil {
			return err
		}
		p = Progress{Stage: StageHeld, UserID: u.ID, PendingToken: "", ResendAt: now.Add(ResendInterval)}
		return nil
	})
	if err != nil {
		l.recordCheckFailure(ctx, u.ID, method, err, a)
		return Progress{}, err
	}
	return p, nil
}

func (l *Login) sendConfirmation(ctx context.Context, tx *store.Tx, userID int, link string, a Attempt) error {
	u, to, err := primaryAddress(ctx, tx.Ent, userID)
	if err != nil {
		return err
	}
	return l.mailer.SendUnrecognizedLogin(ctx, tx, to, UnrecognizedLoginMail{UserID: userID, Username: u.Username, Token: link, Origin: a.origin(l.now())})
}

// recordCheckFailure records a wrong second factor; other errors are not
// the user's.
func (l *Login) recordCheckFailure(ctx context.Context, userID int, method string, err error, a Attempt) {
	for _, bad := range []error{ErrTOTPInvalid, ErrTOTPReplayed, ErrTOTPMalformed, ErrRecoveryCodeInvalid, ErrWebAuthnFailed, ErrKeyCloned} {
		if errors.Is(err, bad) {
			l.failed(ctx, userID, method, "bad_"+method, a)
			return
		}
	}
}

// HeldStatus is polled by the waiting page: it completes the login once the
// link was opened in this browser, else says the login is still held.
func (l *Login) HeldStatus(ctx context.Context, pendingToken string, a Attempt) (Progress, error) {
	row, st, err := l.loadPending(ctx, l.st.Ent, pendingToken, StageHeld)
	if err != nil {
		return Progress{}, err
	}
	held, err := l.st.Ent.PendingLogin.Get(ctx, st.HeldID)
	if err != nil {
		return Progress{}, fmt.Errorf("account: held login %d: %w", st.HeldID, err)
	}
	if held.ConsumedAt != nil || !bytes.Equal(held.DeviceHash, hashToken(a.DeviceToken)) {
		return Progress{}, ErrLoginExpired
	}
	if held.ConfirmedAt == nil {
		if l.now().After(held.ExpiresAt) {
			return Progress{}, ErrLoginExpired
		}
		return Progress{Stage: StageHeld, UserID: st.UserID, PendingToken: pendingToken, ResendAt: held.LastEmailSentAt.Add(ResendInterval)}, nil
	}
	u, err := l.st.Ent.User.Get(ctx, st.UserID)
	if err != nil {
		return Progress{}, fmt.Errorf("account: login user %d: %w", st.UserID, err)
	}
	return l.complete(ctx, row, u, st.Methods, held.Method, func(ctx context.Context, tx *store.Tx, userID int) error {
		// consumed_at makes completion single-use across tabs and processes.
		n, err := tx.Ent.PendingLogin.Update().
			Where(pendinglogin.ID(held.ID), pendinglogin.ConsumedAtIsNil()).
			SetConsumedAt(l.now()).
			Save(ctx)
		if err != nil {
			return fmt.Errorf("account: complete held login %d: %w", held.ID, err)
		}
		if n == 0 {
			return ErrLoginExpired
		}
		if err := tx.Ent.TrustedDevice.Create().
			SetUserID(userID).
			SetDeviceHash(held.DeviceHash).
			SetUserAgent(truncate(a.UserAgent, 512)).
			SetIP(a.IP).
			SetCreatedAt(l.now()).
			SetLastUsedAt(l.now()).
			Exec(ctx); err != nil {
			return fmt.Errorf("account: trust device of user %d: %w", userID, err)
		}
		return RecordChange(ctx, tx, userID, EventDeviceTrusted, a.events(), nil)
	}, a)
}

// ConfirmHeld handles the emailed link. It confirms only when opened in the
// browser that started the login (same device cookie); the IP may differ.
// The caller then completes the login with HeldStatus.
func (l *Login) ConfirmHeld(ctx context.Context, linkToken string, a Attempt) error {
	if linkToken == "" || len(linkToken) > 128 {
		return ErrTokenInvalid
	}
	held, err := l.st.Ent.PendingLogin.Query().Where(pendinglogin.TokenHash(hashToken(linkToken))).Only(ctx)
	if ent.IsNotFound(err) {
		return ErrTokenInvalid
	}
	if err != nil {
		return fmt.Errorf("account: find held login: %w", err)
	}
	switch {
	case held.ConfirmedAt != nil || held.ConsumedAt != nil:
		return ErrTokenUsed
	case !l.now().Before(held.ExpiresAt):
		return ErrTokenExpired
	case a.DeviceToken == "" || !bytes.Equal(held.DeviceHash, hashToken(a.DeviceToken)):
		_ = RecordEvent(ctx, l.st.Ent, held.UserID, EventLoginFailed, a.events(), map[string]any{DetailMethod: held.Method, DetailReason: "confirmation_from_other_browser"})
		return ErrWrongBrowser
	}
	n, err := l.st.Ent.PendingLogin.Update().
		Where(pendinglogin.ID(held.ID), pendinglogin.ConfirmedAtIsNil(), pendinglogin.ExpiresAtGT(l.now())).
		SetConfirmedAt(l.now()).
		Save(ctx)
	if err != nil {
		return fmt.Errorf("account: confirm held login %d: %w", held.ID, err)
	}
	if n == 0 {
		return ErrTokenUsed
	}
	return RecordEvent(ctx, l.st.Ent, held.UserID, EventLoginConfirmed, a.events(), map[string]any{DetailMethod: held.Method})
}

// ResendHeld mails a fresh confirmation link (the old one stops working),
// at most once per ResendInterval.
func (l *Login) ResendHeld(ctx context.Context, pendingToken string, a Attempt) (Progress, error) {
	row, st, err := l.loadPending(ctx, l.st.Ent, pendingToken, StageHeld)
	if err != nil {
		return Progress{}, err
	}
	now := l.now()
	var p Progress
	err = l.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		held, err := tx.Ent.PendingLogin.Get(ctx, st.HeldID)
		if err != nil {
			return fmt.Errorf("account: held login %d: %w", st.HeldID, err)
		}
		if next := held.LastEmailSentAt.Add(ResendInterval); now.Before(next) {
			return &ResendTooSoonError{At: next}
		}
		link, linkHash, err := newToken()
		if err != nil {
			return err
		}
		// Conditional on the last send time, so two clicks send one mail.
		n, err := tx.Ent.PendingLogin.Update().
			Where(pendinglogin.ID(held.ID), pendinglogin.LastEmailSentAt(held.LastEmailSentAt), pendinglogin.ConfirmedAtIsNil()).
			SetTokenHash(linkHash).
			SetLastEmailSentAt(now).
			SetExpiresAt(now.Add(LoginConfirmationTTL)).
			Save(ctx)
		if err != nil {
			return fmt.Errorf("account: resend held login %d: %w", held.ID, err)
		}
		if n == 0 {
			return &ResendTooSoonError{At: now.Add(ResendInterval)}
		}
		// The half-finished login lives as long as the new link.
		if err := l.savePending(ctx, tx.Ent, row, st, heldWindow); err != nil {
			return err
		}
		p = Progress{Stage: StageHeld, UserID: st.UserID, PendingToken: pendingToken, ResendAt: now.Add(ResendInterval)}
		return l.sendConfirmation(ctx, tx, st.UserID, link, a)
	})
	return p, err
}

// trustedDevice returns the user's live trusted device for this browser
// and marks it used, or nil.
func (l *Login) trustedDevice(ctx context.Context, userID int, deviceToken string) (*ent.TrustedDevice, error) {
	if deviceToken == "" {
		return nil, nil
	}
	now := l.now()
	d, err := l.st.Ent.TrustedDevice.Query().
		Where(
			trusteddevice.UserID(userID),
			trusteddevice.DeviceHash(hashToken(deviceToken)),
			trusteddevice.RevokedAtIsNil(),
			trusteddevice.LastUsedAtGT(now.Add(-TrustedDeviceTTL)),
		).
		First(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("account: trusted device of user %d: %w", userID, err)
	}
	if err := l.st.Ent.TrustedDevice.UpdateOneID(d.ID).SetLastUsedAt(now).Exec(ctx); err != nil {
		return nil, fmt.Errorf("account: touch trusted device %d: %w", d.ID, err)
	}
	return d, nil
}

// primaryAddress returns the user and the address security mail goes to:
// the verified primary address, else the primary one.
func primaryAddress(ctx context.Context, client *ent.Client, userID int) (*ent.User, mail.Address, error) {
	u, err := client.User.Query().Where(user.ID(userID)).
		WithEmails(func(q *ent.EmailAddressQuery) {
			q.Where(emailaddress.Primary(true)).Order(ent.Desc(emailaddress.FieldVerifiedAt))
		}).
		Only(ctx)
	if err != nil {
		return nil, mail.Address{}, fmt.Errorf("account: user %d: %w", userID, err)
	}
	if len(u.Edges.Emails) == 0 {
		return nil, mail.Address{}, fmt.Errorf("account: user %d has no primary email address", userID)
	}
	return u, mail.Address{Name: u.DisplayName, Address: u.Edges.Emails[0].Address}, nil
}
