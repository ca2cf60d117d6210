package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/session"
)

// A half-finished login lives in an anonymous session (user_id NULL, so
// Sessions.Lookup never treats it as signed in) whose data holds where the
// login stands. The browser keeps its token in a cookie of its own; only
// the hash is stored, like every session.

// ErrLoginExpired means the half-finished login is unknown, expired or
// already completed: start again from the password.
var ErrLoginExpired = errors.New("account: this sign-in has expired; please sign in again")

// Stage is where a login stands.
type Stage string

// The stages of a login.
const (
	// StageSecondFactor: the password was right; a second factor is due.
	StageSecondFactor Stage = "second_factor"
	// StageHeld: the second factor was right but the browser is not
	// trusted; the emailed link must be opened in this browser.
	StageHeld Stage = "held"
	// StagePasskey: a username-less passkey ceremony is under way.
	StagePasskey Stage = "passkey"
	// StageDone: signed in; Progress.SessionToken is the new session.
	StageDone Stage = "done"
)

// pendingState is the data of a half-finished login.
type pendingState struct {
	Stage   Stage    `json:"stage"`
	UserID  int      `json:"user_id,omitempty"`
	Methods []string `json:"methods,omitempty"`
	// HeldID is the PendingLogin row of a held login.
	HeldID int `json:"held_id,omitempty"`
	// Ceremony is go-webauthn's sealed state between begin and finish.
	Ceremony []byte `json:"ceremony,omitempty"`
}

const (
	secondFactorWindow = 10 * time.Minute
	heldWindow         = LoginConfirmationTTL
)

func (st pendingState) data() (map[string]any, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// startPending stores a new half-finished login and returns its token.
func (l *Login) startPending(ctx context.Context, client *ent.Client, st pendingState, ttl time.Duration, a Attempt) (string, error) {
	token, hash, err := newToken()
	if err != nil {
		return "", err
	}
	data, err := st.data()
	if err != nil {
		return "", fmt.Errorf("account: encode login state: %w", err)
	}
	now := l.now()
	err = client.Session.Create().
		SetTokenHash(hash).
		SetCreatedAt(now).
		SetLastSeenAt(now).
		SetExpiresAt(now.Add(ttl)).
		SetIP(a.IP).
		SetUserAgent(truncate(a.UserAgent, 512)).
		SetAuthMethods(nonNil(st.Methods)).
		SetData(data).
		Exec(ctx)
	if err != nil {
		return "", fmt.Errorf("account: store login state: %w", err)
	}
	return token, nil
}

// loadPending finds the half-finished login of token; want lists the stages
// the caller accepts.
func (l *Login) loadPending(ctx context.Context, client *ent.Client, token string, want ...Stage) (*ent.Session, pendingState, error) {
	var st pendingState
	if token == "" || len(token) > 128 {
		return nil, st, ErrLoginExpired
	}
	row, err := client.Session.Query().
		Where(
			session.TokenHash(hashToken(token)),
			session.UserIDIsNil(),
			session.RevokedAtIsNil(),
			session.ExpiresAtGT(l.now()),
		).
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, st, ErrLoginExpired
	}
	if err != nil {
		return nil, st, fmt.Errorf("account: load login state: %w", err)
	}
	b, err := json.Marshal(row.Data)
	if err != nil {
		return nil, st, fmt.Errorf("account: read login state: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, st, fmt.Errorf("account: read login state: %w", err)
	}
	for _, s := range want {
		if st.Stage == s {
			return row, st, nil
		}
	}
	return nil, st, ErrLoginExpired
}

// savePending replaces the state of a half-finished login.
func (l *Login) savePending(ctx context.Context, client *ent.Client, row *ent.Session, st pendingState, ttl time.Duration) error {
	data, err := st.data()
	if err != nil {
		return fmt.Errorf("account: encode login state: %w", err)
	}
	upd := client.Session.UpdateOneID(row.ID).SetData(data).SetAuthMethods(nonNil(st.Methods))
	if ttl > 0 {
		upd.SetExpiresAt(l.now().Add(ttl))
	}
	if err := upd.Exec(ctx); err != nil {
		return fmt.Errorf("account: save login state: %w", err)
	}
	return nil
}

// endPending revokes a half-finished login; the conditional update makes
// completion single-use when two tabs race.
func (l *Login) endPending(ctx context.Context, client *ent.Client, row *ent.Session) error {
	n, err := client.Session.Update().
		Where(session.ID(row.ID), session.RevokedAtIsNil()).
		SetRevokedAt(l.now()).
		Save(ctx)
	if err != nil {
		return fmt.Errorf("account: end login state: %w", err)
	}
	if n == 0 {
		return ErrLoginExpired
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
