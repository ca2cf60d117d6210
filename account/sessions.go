package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/session"
	"github.com/recoverydesk/recoverydesk/ent/user"
)

// SessionPolicy bounds how long a session lives.
type SessionPolicy struct {
	// Lifetime is the absolute limit from sign-in.
	Lifetime time.Duration
	// Idle ends a session not used for this long.
	Idle time.Duration
	// TouchEvery limits last-seen writes to one per interval per session,
	// so reading pages does not write on every request.
	TouchEvery time.Duration
}

// DefaultSessionPolicy is 14 days absolute, 24 hours idle.
var DefaultSessionPolicy = SessionPolicy{Lifetime: 14 * 24 * time.Hour, Idle: 24 * time.Hour, TouchEvery: time.Minute}

// Sessions creates, finds and revokes browser sessions.
type Sessions struct {
	client *ent.Client
	policy SessionPolicy
	now    func() time.Time
}

// NewSessions returns the session service; now may be nil (time.Now).
func NewSessions(client *ent.Client, policy SessionPolicy, now func() time.Time) *Sessions {
	if now == nil {
		now = time.Now
	}
	return &Sessions{client: client, policy: policy, now: now}
}

// SessionMeta describes the browser a session is created for.
type SessionMeta struct {
	IP          string
	UserAgent   string
	AuthMethods []string
}

// Create starts a session for userID and returns the cookie token (shown to
// the browser once; only its hash is stored).
func (s *Sessions) Create(ctx context.Context, client *ent.Client, userID int, meta SessionMeta) (string, error) {
	if client == nil {
		client = s.client
	}
	token, hash, err := newToken()
	if err != nil {
		return "", err
	}
	now := s.now()
	methods := meta.AuthMethods
	if methods == nil {
		methods = []string{}
	}
	_, err = client.Session.Create().
		SetTokenHash(hash).
		SetUserID(userID).
		SetCreatedAt(now).
		SetLastSeenAt(now).
		SetExpiresAt(now.Add(s.policy.Lifetime)).
		SetIP(meta.IP).
		SetUserAgent(truncate(meta.UserAgent, 512)).
		SetAuthMethods(methods).
		Save(ctx)
	if err != nil {
		return "", fmt.Errorf("account: create session for user %d: %w", userID, err)
	}
	return token, nil
}

// Lookup returns the live session for a cookie token, or ErrSessionNotFound
// when it is unknown, expired, idle too long, revoked, or its user is not
// active.
func (s *Sessions) Lookup(ctx context.Context, token string) (*Session, error) {
	if token == "" || len(token) > 128 {
		return nil, ErrSessionNotFound
	}
	now := s.now()
	row, err := s.client.Session.Query().
		Where(
			session.TokenHash(hashToken(token)),
			session.RevokedAtIsNil(),
			session.ExpiresAtGT(now),
			session.LastSeenAtGT(now.Add(-s.policy.Idle)),
			session.HasUserWith(user.StatusEQ(user.StatusActive)),
		).
		WithUser().
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrSessionNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("account: look up session: %w", err)
	}
	if now.Sub(row.LastSeenAt) >= s.policy.TouchEvery {
		if err := s.client.Session.UpdateOneID(row.ID).SetLastSeenAt(now).Exec(ctx); err != nil {
			return nil, fmt.Errorf("account: touch session %d: %w", row.ID, err)
		}
	}
	u := row.Edges.User
	return &Session{
		ID:            row.ID,
		UserID:        u.ID,
		Username:      u.Username,
		DisplayName:   u.DisplayName,
		StaffRole:     string(u.StaffRole),
		MustEnroll2FA: u.MustEnroll2fa,
		AuthMethods:   row.AuthMethods,
		ExpiresAt:     row.ExpiresAt,
	}, nil
}

// Revoke ends the session of a cookie token; an unknown token is not an
// error (signing out twice is fine).
func (s *Sessions) Revoke(ctx context.Context, token string) error {
	_, err := s.client.Session.Update().
		Where(session.TokenHash(hashToken(token)), session.RevokedAtIsNil()).
		SetRevokedAt(s.now()).
		Save(ctx)
	if err != nil {
		return fmt.Errorf("account: revoke session: %w", err)
	}
	return nil
}

// RevokeAll ends every session of a user (password change, 2FA reset).
func (s *Sessions) RevokeAll(ctx context.Context, client *ent.Client, userID int) (int, error) {
	if client == nil {
		client = s.client
	}
	n, err := client.Session.Update().
		Where(session.UserID(userID), session.RevokedAtIsNil()).
		SetRevokedAt(s.now()).
		Save(ctx)
	if err != nil {
		return 0, fmt.Errorf("account: revoke sessions of user %d: %w", userID, err)
	}
	return n, nil
}

// newToken returns 256 random bits, URL-safe, and their hash.
func newToken() (token string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("account: random token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token), nil
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Prune deletes sessions that ended (expired, idle or revoked) more than
// keep ago; the rows are kept that long for the security page's history.
func (s *Sessions) Prune(ctx context.Context, keep time.Duration) (int, error) {
	cutoff := s.now().Add(-keep)
	n, err := s.client.Session.Delete().
		Where(session.Or(
			session.ExpiresAtLT(cutoff),
			session.LastSeenAtLT(cutoff.Add(-s.policy.Idle)),
			session.RevokedAtLT(cutoff),
		)).
		Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("account: prune sessions: %w", err)
	}
	return n, nil
}
