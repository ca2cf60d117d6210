package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/apitoken"
	"github.com/recoverydesk/recoverydesk/ent/user"
)

// API tokens authenticate uploads. A token is APITokenPrefix followed by
// 256 random bits in lower-case base32: the prefix makes a leaked token
// easy to recognise (by people and by secret scanners), and the database
// keeps only its SHA-256. A plain hash is enough for 256 random bits;
// argon2 would only slow every upload.

// APITokenPrefix starts every API token.
const APITokenPrefix = "rdt_"

// apiTokenShown is how much of a token, prefix included, the token list
// shows so that its owner can tell tokens apart.
const apiTokenShown = len(APITokenPrefix) + 8

// apiTokenLen is the length of a whole token: the prefix and 52 base32
// characters of 32 random bytes.
const apiTokenLen = len(APITokenPrefix) + 52

var apiTokenEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Errors of AuthenticateAPIToken. ErrAPITokenInvalid covers unknown and
// malformed tokens alike.
var (
	ErrAPITokenInvalid = errors.New("account: invalid API token")
	ErrAPITokenExpired = errors.New("account: this API token has expired")
	ErrAPITokenRevoked = errors.New("account: this API token has been revoked")
	// ErrAPITokenAccountInactive: the token is valid but its account is
	// suspended or otherwise not active.
	ErrAPITokenAccountInactive = errors.New("account: the account of this API token is not active")
)

// APITokenSecret is a freshly made token: Token is shown to its owner once,
// Prefix and Hash are stored.
type APITokenSecret struct {
	Token  string
	Prefix string
	Hash   []byte
}

// NewAPITokenSecret makes a new random token.
func NewAPITokenSecret() (APITokenSecret, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return APITokenSecret{}, fmt.Errorf("account: api token: %w", err)
	}
	tok := APITokenPrefix + apiTokenEncoding.EncodeToString(b[:])
	return APITokenSecret{Token: tok, Prefix: tok[:apiTokenShown], Hash: HashAPIToken(tok)}, nil
}

// HashAPIToken is the stored form of token.
func HashAPIToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// LooksLikeAPIToken says whether s has an API token's shape. The upload
// endpoint uses it to tell a token from a password sent by mistake, which
// gets its own message.
func LooksLikeAPIToken(s string) bool {
	if len(s) != apiTokenLen || !strings.HasPrefix(s, APITokenPrefix) {
		return false
	}
	_, err := apiTokenEncoding.DecodeString(s[len(APITokenPrefix):])
	return err == nil
}

// AuthenticateAPIToken returns the live token row for token, with its user
// loaded, and records its use. Revoked and expired tokens, and tokens of
// accounts that are not active, are refused with their own error so the
// client can say why; anything else is ErrAPITokenInvalid.
func AuthenticateAPIToken(ctx context.Context, client *ent.Client, token string, now time.Time) (*ent.APIToken, error) {
	if !LooksLikeAPIToken(token) {
		return nil, ErrAPITokenInvalid
	}
	row, err := client.APIToken.Query().
		Where(apitoken.TokenHash(HashAPIToken(token))).
		WithUser().
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrAPITokenInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("account: find api token: %w", err)
	}
	switch {
	case row.RevokedAt != nil:
		return nil, ErrAPITokenRevoked
	case row.ExpiresAt != nil && !now.Before(*row.ExpiresAt):
		return nil, ErrAPITokenExpired
	case row.Edges.User.Status != user.StatusActive:
		return nil, ErrAPITokenAccountInactive
	}
	// Guarded by revoked_at IS NULL: a revocation committed since the read
	// above wins.
	n, err := client.APIToken.Update().
		Where(apitoken.ID(row.ID), apitoken.RevokedAtIsNil()).
		SetLastUsedAt(now).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("account: record api token use: %w", err)
	}
	if n == 0 {
		return nil, ErrAPITokenRevoked
	}
	row.LastUsedAt = &now
	return row, nil
}
