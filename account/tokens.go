package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/actiontoken"
)

// Emailed links carry a single-use action token: 256 random bits, of which
// the database keeps only the SHA-256, so a leaked row cannot be replayed
// as a link. ConsumeToken spends a token with one conditional UPDATE
// (unused, unexpired, this purpose, this hash): of two clicks racing on the
// same link, PostgreSQL lets exactly one update the row, and the other
// re-checks used_at after the first commits and matches nothing.

// TokenPurpose says what a token may be used for; a token issued for one
// purpose is invalid for every other. The values are ActionToken.purpose's.
type TokenPurpose string

// The purposes of action tokens.
const (
	TokenEmailVerification TokenPurpose = "email_verification"
	TokenPasswordReset     TokenPurpose = "password_reset"
	TokenLoginConfirmation TokenPurpose = "login_confirmation"
	TokenEmailChallenge    TokenPurpose = "email_challenge"
	TokenResetCancel       TokenPurpose = "reset_cancel"
	TokenCaseStatus        TokenPurpose = "case_status"
)

// How long emailed links stay valid.
const (
	EmailVerificationTTL = 6 * time.Hour
	PasswordResetTTL     = time.Hour
	LoginConfirmationTTL = time.Hour
)

// Sentinel errors of ConsumeToken and PeekToken. ErrTokenInvalid covers
// unknown, forged and wrong-purpose tokens alike, so a response never tells
// a guesser more than "no".
var (
	ErrTokenInvalid = errors.New("account: this link is not valid")
	ErrTokenExpired = errors.New("account: this link has expired")
	ErrTokenUsed    = errors.New("account: this link has already been used")
)

// TokenParams describes a token to issue.
type TokenParams struct {
	Purpose TokenPurpose
	// UserID, Email and CaseID say whom the token is about; all optional.
	UserID *int
	Email  string
	CaseID *int
	// Data is carried to whoever consumes the token (e.g. the pending
	// login it confirms).
	Data map[string]any
	// TTL is the token's lifetime; 0 means the purpose's default TTL
	// (only email verification, password reset and login confirmation
	// have one).
	TTL time.Duration
	// Now is the issue time; zero means time.Now.
	Now time.Time
}

// IssueToken stores a new token's hash and returns the token, to be put
// in a link and shown nowhere else. client may be a transaction's client.
func IssueToken(ctx context.Context, client *ent.Client, p TokenParams) (string, error) {
	if err := actiontoken.PurposeValidator(actiontoken.Purpose(p.Purpose)); err != nil {
		return "", fmt.Errorf("account: issue token: %w", err)
	}
	ttl := p.TTL
	if ttl <= 0 {
		ttl = defaultTokenTTL(p.Purpose)
		if ttl == 0 {
			return "", fmt.Errorf("account: issue %s token: TTL is required for this purpose", p.Purpose)
		}
	}
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	token, hash, err := newToken()
	if err != nil {
		return "", err
	}
	create := client.ActionToken.Create().
		SetPurpose(actiontoken.Purpose(p.Purpose)).
		SetTokenHash(hash).
		SetNillableUserID(p.UserID).
		SetNillableCaseID(p.CaseID).
		SetCreatedAt(now).
		SetExpiresAt(now.Add(ttl))
	if p.Email != "" {
		create.SetEmail(p.Email)
	}
	if p.Data != nil {
		create.SetData(p.Data)
	}
	if err := create.Exec(ctx); err != nil {
		return "", fmt.Errorf("account: issue %s token: %w", p.Purpose, err)
	}
	return token, nil
}

func defaultTokenTTL(purpose TokenPurpose) time.Duration {
	switch purpose {
	case TokenEmailVerification:
		return EmailVerificationTTL
	case TokenPasswordReset:
		return PasswordResetTTL
	case TokenLoginConfirmation:
		return LoginConfirmationTTL
	}
	return 0
}

// ConsumeToken spends a token of the given purpose at now and returns its
// row (used_at set). It fails with ErrTokenUsed, ErrTokenExpired or
// ErrTokenInvalid. Called with a transaction's client, the token is spent
// only if that transaction commits, and a concurrent consumer waits for it.
func ConsumeToken(ctx context.Context, client *ent.Client, purpose TokenPurpose, token string, now time.Time) (*ent.ActionToken, error) {
	if !plausibleToken(purpose, token) {
		return nil, ErrTokenInvalid
	}
	hash := hashToken(token)
	n, err := client.ActionToken.Update().
		Where(
			actiontoken.TokenHash(hash),
			actiontoken.PurposeEQ(actiontoken.Purpose(purpose)),
			actiontoken.UsedAtIsNil(),
			actiontoken.ExpiresAtGT(now),
		).
		SetUsedAt(now).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("account: consume %s token: %w", purpose, err)
	}
	// token_hash is unique, so the row read back is the one just updated
	// (or, on failure, the one that says why).
	row, err := findToken(ctx, client, purpose, hash)
	if err != nil {
		return nil, err
	}
	if n == 1 {
		return row, nil
	}
	if err := tokenUnusable(row, now); err != nil {
		return nil, err
	}
	// Unreachable unless the row changed between the two statements;
	// refusing is the safe answer.
	return nil, ErrTokenInvalid
}

// PeekToken checks a token as ConsumeToken would, without spending it: a
// GET page shows a confirm button and only its POST consumes the token, so
// mail scanners that follow links do not use them up.
func PeekToken(ctx context.Context, client *ent.Client, purpose TokenPurpose, token string, now time.Time) (*ent.ActionToken, error) {
	if !plausibleToken(purpose, token) {
		return nil, ErrTokenInvalid
	}
	row, err := findToken(ctx, client, purpose, hashToken(token))
	if err != nil {
		return nil, err
	}
	if err := tokenUnusable(row, now); err != nil {
		return nil, err
	}
	return row, nil
}

// RevokeTokens voids a user's live tokens of one purpose, e.g. older reset
// links when a new one is sent. A voided token reads as expired, which is
// what it is to its holder: its time is over.
func RevokeTokens(ctx context.Context, client *ent.Client, userID int, purpose TokenPurpose, now time.Time) error {
	// Only live tokens are touched, so an expiry is never moved later.
	err := client.ActionToken.Update().
		Where(
			actiontoken.UserID(userID),
			actiontoken.PurposeEQ(actiontoken.Purpose(purpose)),
			actiontoken.UsedAtIsNil(),
			actiontoken.ExpiresAtGT(now),
		).
		SetExpiresAt(now).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("account: revoke %s tokens of user %d: %w", purpose, userID, err)
	}
	return nil
}

// plausibleToken rejects, without a query, what IssueToken cannot have
// made: newToken's tokens are 43 base64url characters.
func plausibleToken(purpose TokenPurpose, token string) bool {
	if actiontoken.PurposeValidator(actiontoken.Purpose(purpose)) != nil || len(token) != 43 {
		return false
	}
	for i := 0; i < len(token); i++ {
		c := token[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// findToken reads the token row of hash; one issued for another purpose
// is as unknown as a forged one.
func findToken(ctx context.Context, client *ent.Client, purpose TokenPurpose, hash []byte) (*ent.ActionToken, error) {
	row, err := client.ActionToken.Query().
		Where(actiontoken.TokenHash(hash), actiontoken.PurposeEQ(actiontoken.Purpose(purpose))).
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrTokenInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("account: look up %s token: %w", purpose, err)
	}
	return row, nil
}

// tokenUnusable says why row cannot be used at now, or nil if it can. A
// used token reports "used" even once expired: that is the more useful
// thing to tell whoever clicks it again.
func tokenUnusable(row *ent.ActionToken, now time.Time) error {
	switch {
	case row.UsedAt != nil:
		return ErrTokenUsed
	case !row.ExpiresAt.After(now):
		return ErrTokenExpired
	}
	return nil
}
