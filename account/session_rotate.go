package account

import (
	"context"
	"errors"
	"fmt"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/session"
)

// Rotate replaces the live session of token with a new one and revokes the
// old, for a privilege change (a second factor added): a token that leaked
// before the change is worth nothing after it. The new session keeps what
// the old one proved — its user, sign-in time, re-authentication time,
// methods, trusted device and absolute expiry — so rotating never extends
// a session or counts as a fresh sign-in. It returns the new cookie token,
// or ErrSessionNotFound when token is no longer live.
func (s *Sessions) Rotate(ctx context.Context, token string) (string, error) {
	if token == "" || len(token) > 128 {
		return "", ErrSessionNotFound
	}
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return "", fmt.Errorf("account: rotate session: begin: %w", err)
	}
	newToken, err := s.rotate(ctx, tx.Client(), token)
	if err != nil {
		if rbErr := tx.Rollback(); rbErr != nil {
			err = errors.Join(err, fmt.Errorf("account: rotate session: rollback: %w", rbErr))
		}
		return "", err
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("account: rotate session: commit: %w", err)
	}
	return newToken, nil
}

func (s *Sessions) rotate(ctx context.Context, client *ent.Client, token string) (string, error) {
	now := s.now()
	old, err := client.Session.Query().
		Where(
			session.TokenHash(hashToken(token)),
			session.RevokedAtIsNil(),
			session.ExpiresAtGT(now),
			session.UserIDNotNil(),
		).
		ForUpdate().
		Only(ctx)
	if ent.IsNotFound(err) {
		return "", ErrSessionNotFound
	}
	if err != nil {
		return "", fmt.Errorf("account: rotate session: load: %w", err)
	}
	newToken, hash, err := newToken()
	if err != nil {
		return "", err
	}
	create := client.Session.Create().
		SetTokenHash(hash).
		SetUserID(*old.UserID).
		SetCreatedAt(old.CreatedAt).
		SetLastSeenAt(now).
		SetExpiresAt(old.ExpiresAt).
		SetIP(old.IP).
		SetUserAgent(old.UserAgent).
		SetAuthMethods(old.AuthMethods).
		SetNillableReauthenticatedAt(old.ReauthenticatedAt).
		SetNillableTrustedDeviceID(old.TrustedDeviceID)
	if old.Data != nil {
		create.SetData(old.Data)
	}
	if err := create.Exec(ctx); err != nil {
		return "", fmt.Errorf("account: rotate session %d: create: %w", old.ID, err)
	}
	if err := client.Session.UpdateOneID(old.ID).SetRevokedAt(now).Exec(ctx); err != nil {
		return "", fmt.Errorf("account: rotate session %d: revoke: %w", old.ID, err)
	}
	return newToken, nil
}
