package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/recoverycode"
	"github.com/recoverydesk/recoverydesk/ent/session"
	"github.com/recoverydesk/recoverydesk/ent/trusteddevice"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// ReauthWindow is how long a re-authentication lets sensitive actions
// through (removing a key, regenerating codes, changing the password).
const ReauthWindow = 15 * time.Minute

// ErrReauthRequired: the action needs a fresh password or key check.
var ErrReauthRequired = errors.New("account: confirm your password to continue")

// Security runs the account's security page: sessions, trusted devices,
// recovery codes, re-authentication.
type Security struct {
	st       *store.Store
	sessions *Sessions
	mailer   *Mailer
	hasher   *Hasher
	now      func() time.Time
}

// NewSecurity returns the service.
func NewSecurity(st *store.Store, sessions *Sessions, mailer *Mailer, hasher *Hasher, now func() time.Time) *Security {
	s := &Security{st: st, sessions: sessions, mailer: mailer, hasher: hasher, now: now}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Reauthenticate checks the password of the signed-in user and marks the
// session as freshly authenticated.
func (s *Security) Reauthenticate(ctx context.Context, sessionID, userID int, password string, at Attempt) error {
	u, err := s.st.Ent.User.Get(ctx, userID)
	if err != nil {
		return fmt.Errorf("account: user %d: %w", userID, err)
	}
	if u.PasswordHash == nil {
		return ErrBadCredentials
	}
	ok, _, err := s.hasher.Verify(ctx, *u.PasswordHash, password)
	if err != nil {
		return fmt.Errorf("account: verify password of user %d: %w", userID, err)
	}
	if !ok {
		_ = RecordEvent(ctx, s.st.Ent, userID, EventLoginFailed, at.events(), map[string]any{DetailMethod: "password", DetailReason: "bad_password_reauth"})
		return ErrBadCredentials
	}
	return s.MarkReauthenticated(ctx, sessionID)
}

// MarkReauthenticated records a fresh authentication of the session (after
// a password or WebAuthn check).
func (s *Security) MarkReauthenticated(ctx context.Context, sessionID int) error {
	if err := s.st.Ent.Session.UpdateOneID(sessionID).SetReauthenticatedAt(s.now()).Exec(ctx); err != nil {
		return fmt.Errorf("account: mark session %d re-authenticated: %w", sessionID, err)
	}
	return nil
}

// RequireReauth returns ErrReauthRequired unless the session authenticated
// within ReauthWindow (the sign-in itself counts).
func (s *Security) RequireReauth(ctx context.Context, sessionID int) error {
	row, err := s.st.Ent.Session.Get(ctx, sessionID)
	if err != nil {
		return fmt.Errorf("account: session %d: %w", sessionID, err)
	}
	last := row.CreatedAt
	if row.ReauthenticatedAt != nil && row.ReauthenticatedAt.After(last) {
		last = *row.ReauthenticatedAt
	}
	if s.now().Sub(last) > ReauthWindow {
		return ErrReauthRequired
	}
	return nil
}

// SessionInfo is a session as the security page lists it.
type SessionInfo struct {
	ID       int
	Created  time.Time
	LastSeen time.Time
	IP       string
	Device   string
	Methods  []string
	Current  bool
}

// ListSessions returns the user's live sessions, newest first.
func (s *Security) ListSessions(ctx context.Context, userID, currentID int) ([]SessionInfo, error) {
	now := s.now()
	rows, err := s.st.Ent.Session.Query().
		Where(session.UserID(userID), session.RevokedAtIsNil(), session.ExpiresAtGT(now), session.LastSeenAtGT(now.Add(-s.sessions.policy.Idle))).
		Order(ent.Desc(session.FieldLastSeenAt)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("account: sessions of user %d: %w", userID, err)
	}
	out := make([]SessionInfo, len(rows))
	for i, r := range rows {
		out[i] = SessionInfo{ID: r.ID, Created: r.CreatedAt, LastSeen: r.LastSeenAt, IP: r.IP, Device: SummarizeUserAgent(r.UserAgent), Methods: r.AuthMethods, Current: r.ID == currentID}
	}
	return out, nil
}

// ErrNotFound: the session or device is not the user's (or is gone).
var ErrNotFound = errors.New("account: not found")

// RevokeSession ends one of the user's sessions.
func (s *Security) RevokeSession(ctx context.Context, userID, sessionID int, at Attempt) error {
	return s.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		n, err := tx.Ent.Session.Update().
			Where(session.ID(sessionID), session.UserID(userID), session.RevokedAtIsNil()).
			SetRevokedAt(s.now()).
			Save(ctx)
		if err != nil {
			return fmt.Errorf("account: revoke session %d: %w", sessionID, err)
		}
		if n == 0 {
			return ErrNotFound
		}
		return RecordChange(ctx, tx, userID, EventSessionRevoked, at.events(), map[string]any{"session": sessionID})
	})
}

// DeviceInfo is a trusted browser as the security page lists it.
type DeviceInfo struct {
	ID       int
	Trusted  time.Time
	LastUsed time.Time
	Expires  time.Time
	IP       string
	Device   string
}

// ListDevices returns the user's trusted browsers that have not lapsed.
func (s *Security) ListDevices(ctx context.Context, userID int) ([]DeviceInfo, error) {
	rows, err := s.st.Ent.TrustedDevice.Query().
		Where(trusteddevice.UserID(userID), trusteddevice.RevokedAtIsNil(), trusteddevice.LastUsedAtGT(s.now().Add(-TrustedDeviceTTL))).
		Order(ent.Desc(trusteddevice.FieldLastUsedAt)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("account: devices of user %d: %w", userID, err)
	}
	out := make([]DeviceInfo, len(rows))
	for i, r := range rows {
		out[i] = DeviceInfo{ID: r.ID, Trusted: r.CreatedAt, LastUsed: r.LastUsedAt, Expires: r.LastUsedAt.Add(TrustedDeviceTTL), IP: r.IP, Device: SummarizeUserAgent(r.UserAgent)}
	}
	return out, nil
}

// RevokeDevice stops trusting one browser: its next TOTP or recovery-code
// login is held again.
func (s *Security) RevokeDevice(ctx context.Context, userID, deviceID int, at Attempt) error {
	return s.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		n, err := tx.Ent.TrustedDevice.Update().
			Where(trusteddevice.ID(deviceID), trusteddevice.UserID(userID), trusteddevice.RevokedAtIsNil()).
			SetRevokedAt(s.now()).
			Save(ctx)
		if err != nil {
			return fmt.Errorf("account: revoke device %d: %w", deviceID, err)
		}
		if n == 0 {
			return ErrNotFound
		}
		return RecordChange(ctx, tx, userID, EventDeviceRevoked, at.events(), map[string]any{"device": deviceID})
	})
}

// revokeAllDevices ends the trust of every browser (password change, 2FA
// reset).
func revokeAllDevices(ctx context.Context, client *ent.Client, userID int, now time.Time) error {
	if _, err := client.TrustedDevice.Update().
		Where(trusteddevice.UserID(userID), trusteddevice.RevokedAtIsNil()).
		SetRevokedAt(now).
		Save(ctx); err != nil {
		return fmt.Errorf("account: revoke devices of user %d: %w", userID, err)
	}
	return nil
}

// RegenerateRecoveryCodes voids every code of the user and returns 8 new
// ones, to be shown once; the caller checks RequireReauth first. The user
// is mailed.
func (s *Security) RegenerateRecoveryCodes(ctx context.Context, userID int, at Attempt) ([]string, error) {
	codes, err := NewRecoveryCodes(RecoveryCodeCount)
	if err != nil {
		return nil, err
	}
	err = s.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		batch := 1
		last, err := tx.Ent.RecoveryCode.Query().Where(recoverycode.UserID(userID)).Order(ent.Desc(recoverycode.FieldBatch)).First(ctx)
		if err == nil {
			batch = last.Batch + 1
		} else if !ent.IsNotFound(err) {
			return fmt.Errorf("account: recovery codes of user %d: %w", userID, err)
		}
		if _, err := tx.Ent.RecoveryCode.Delete().Where(recoverycode.UserID(userID)).Exec(ctx); err != nil {
			return fmt.Errorf("account: void recovery codes of user %d: %w", userID, err)
		}
		creates := make([]*ent.RecoveryCodeCreate, len(codes))
		for i, c := range codes {
			creates[i] = tx.Ent.RecoveryCode.Create().SetUserID(userID).SetCodeHash(HashRecoveryCode(c)).SetBatch(batch)
		}
		if err := tx.Ent.RecoveryCode.CreateBulk(creates...).Exec(ctx); err != nil {
			return fmt.Errorf("account: store recovery codes of user %d: %w", userID, err)
		}
		if err := RecordChange(ctx, tx, userID, EventRecoveryCodesGenerated, at.events(), nil); err != nil {
			return err
		}
		u, to, err := primaryAddress(ctx, tx.Ent, userID)
		if err != nil {
			return err
		}
		return s.mailer.SendRecoveryCodesGenerated(ctx, tx, to, RecoveryCodesMail{UserID: userID, Username: u.Username, Origin: at.origin(s.now())})
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}
