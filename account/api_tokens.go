package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/apitoken"
	"github.com/recoverydesk/recoverydesk/ent/project"
	"github.com/recoverydesk/recoverydesk/ent/projectrole"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// API tokens from the account page: created (the secret shown once),
// listed, revoked. A token uploads without a second factor, so only an
// account with 2FA may create one, and each creation and revocation
// commits with its security event, audit row and notice to the primary
// address in one transaction: a token never appears or disappears
// without its owner hearing of it. Uploads authenticate with
// AuthenticateAPIToken.

const (
	// MaxAPITokenNameLen is the longest token name, in characters; the
	// column also holds at most as many bytes.
	MaxAPITokenNameLen = 100
	// MaxAPITokenLifetime is how far away a chosen expiry may be. A year
	// bounds what a leaked CI secret is worth while needing one rotation
	// a year; a token with no expiry at all works until it is revoked.
	MaxAPITokenLifetime = 365 * 24 * time.Hour
)

// ErrAPITokenNeeds2FA refuses creating a token on an account without a
// second factor: the token would upload with the password alone.
var ErrAPITokenNeeds2FA = errors.New("account: set up two-factor authentication before creating an API token")

// NewAPIToken is what CreateAPIToken needs. Its problems come back as
// FieldErrors keyed "name", "project" and "expires".
type NewAPIToken struct {
	// Name tells the owner's tokens apart: 1 to MaxAPITokenNameLen
	// characters, unique (ignoring case) among their live tokens.
	Name string
	// Project scopes the token to one project the user owns or maintains
	// (compared normalized); "" lets it upload to every project of the
	// account, and create new ones.
	Project string
	// Expires is when the token stops working, zero for never; it must
	// be in the future and at most MaxAPITokenLifetime away.
	Expires time.Time
}

// APITokenInfo is a token as its owner's list shows it: never the secret.
type APITokenInfo struct {
	ID     int
	Name   string
	Prefix string
	// Project names the scope's project, "" for the whole account.
	Project string
	Created time.Time
	// Expires, LastUsed and Revoked are zero for never.
	Expires  time.Time
	LastUsed time.Time
	Revoked  time.Time
	// Expired says Expires had passed when the list was read.
	Expired bool
}

// Live reports whether the token still authenticates.
func (t APITokenInfo) Live() bool { return t.Revoked.IsZero() && !t.Expired }

// CreatedAPIToken is a new token. Token is its secret, to be shown to the
// owner this once: only its hash is stored.
type CreatedAPIToken struct {
	Token string
	APITokenInfo
}

// CreateAPIToken makes a token for userID, records EventAPITokenCreated
// and mails the owner. It returns ErrAPITokenNeeds2FA without a second
// factor, FieldErrors for a refused name, scope or expiry. The caller
// checks Security.RequireReauth first.
func (s *Services) CreateAPIToken(ctx context.Context, userID int, p NewAPIToken, at Attempt) (*CreatedAPIToken, error) {
	now := s.Security.now()
	name, nameMsg := cleanAPITokenName(p.Name)
	errs := FieldErrors{}
	if nameMsg != "" {
		errs["name"] = nameMsg
	}
	if msg := checkAPITokenExpiry(p.Expires, now); msg != "" {
		errs["expires"] = msg
	}
	secret, err := NewAPITokenSecret()
	if err != nil {
		return nil, err
	}
	var created *CreatedAPIToken
	err = s.Security.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		// Locked first, so that the 2FA and name checks hold until commit.
		if _, err := lockUser(ctx, tx.Ent, userID); err != nil {
			return err
		}
		f, err := LoadSecondFactors(ctx, tx.Ent, userID)
		if err != nil {
			return err
		}
		if !f.Enabled() {
			return fmt.Errorf("account: api token for user %d: %w", userID, ErrAPITokenNeeds2FA)
		}
		if name != "" {
			msg, err := apiTokenNameTaken(ctx, tx.Ent, userID, name, now)
			if err != nil {
				return err
			}
			if msg != "" {
				errs["name"] = msg
			}
		}
		scope, msg, err := apiTokenScope(ctx, tx.Ent, userID, p.Project)
		if err != nil {
			return err
		}
		if msg != "" {
			errs["project"] = msg
		}
		if len(errs) > 0 {
			return errs
		}
		c := tx.Ent.APIToken.Create().
			SetUserID(userID).
			SetName(name).
			SetPrefix(secret.Prefix).
			SetTokenHash(secret.Hash).
			SetCreatedAt(now)
		if scope != nil {
			c.SetProjectID(scope.ID)
		}
		if !p.Expires.IsZero() {
			c.SetExpiresAt(p.Expires)
		}
		row, err := c.Save(ctx)
		if err != nil {
			return fmt.Errorf("account: store api token of user %d: %w", userID, err)
		}
		info := apiTokenInfo(row, scope, now)
		created = &CreatedAPIToken{Token: secret.Token, APITokenInfo: info}
		return s.apiTokenChanged(ctx, tx, userID, EventAPITokenCreated, info, at)
	})
	if err != nil {
		return nil, err
	}
	return created, nil
}

// ListAPITokens returns every token of userID, revoked and expired ones
// included, newest first.
func (s *Services) ListAPITokens(ctx context.Context, userID int) ([]APITokenInfo, error) {
	now := s.Security.now()
	rows, err := s.Security.st.Ent.APIToken.Query().
		Where(apitoken.UserID(userID)).
		WithProject().
		Order(ent.Desc(apitoken.FieldCreatedAt), ent.Desc(apitoken.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("account: api tokens of user %d: %w", userID, err)
	}
	out := make([]APITokenInfo, len(rows))
	for i, r := range rows {
		out[i] = apiTokenInfo(r, r.Edges.Project, now)
	}
	return out, nil
}

// RevokeAPIToken revokes token tokenID of userID for good, records
// EventAPITokenRevoked and mails the owner. A token that is not the
// user's is ErrNotFound; one revoked before is ErrAPITokenRevoked, with
// no second event or mail. Expired tokens can be revoked. The service
// asks for no second factor (taking access away is always allowed); the
// web route sits behind the 2FA requirement of the account pages, which
// sends an account without 2FA to enrol first. The caller checks
// Security.RequireReauth first.
func (s *Services) RevokeAPIToken(ctx context.Context, userID, tokenID int, at Attempt) error {
	now := s.Security.now()
	return s.Security.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		// Locked, so that two revocations cannot both send their notice.
		row, err := tx.Ent.APIToken.Query().
			Where(apitoken.ID(tokenID), apitoken.UserID(userID)).
			WithProject().
			ForUpdate().
			Only(ctx)
		if ent.IsNotFound(err) {
			return fmt.Errorf("account: revoke api token %d of user %d: %w", tokenID, userID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("account: find api token %d of user %d: %w", tokenID, userID, err)
		}
		if row.RevokedAt != nil {
			return fmt.Errorf("account: revoke api token %d: %w", tokenID, ErrAPITokenRevoked)
		}
		row, err = row.Update().SetRevokedAt(now).Save(ctx)
		if err != nil {
			return fmt.Errorf("account: revoke api token %d: %w", tokenID, err)
		}
		return s.apiTokenChanged(ctx, tx, userID, EventAPITokenRevoked, apiTokenInfo(row, row.Edges.Project, now), at)
	})
}

// apiTokenChanged records the event of a token created or revoked and
// queues the notice to the owner's primary address, in tx. The details
// hold the public prefix only, never the secret.
func (s *Services) apiTokenChanged(ctx context.Context, tx *store.Tx, userID int, kind EventKind, t APITokenInfo, at Attempt) error {
	details := map[string]any{"token_id": t.ID, "name": t.Name, "prefix": t.Prefix}
	if t.Project != "" {
		details["project"] = t.Project
	}
	if !t.Expires.IsZero() {
		details["expires"] = t.Expires.UTC().Format(time.RFC3339)
	}
	if err := RecordChange(ctx, tx, userID, kind, at.events(), details); err != nil {
		return err
	}
	u, to, err := primaryAddress(ctx, tx.Ent, userID)
	if err != nil {
		return err
	}
	m := APITokenMail{UserID: userID, Username: u.Username, Token: t, Origin: at.origin(s.Security.now())}
	if kind == EventAPITokenCreated {
		return s.Mailer.SendAPITokenCreated(ctx, tx, to, m)
	}
	return s.Mailer.SendAPITokenRevoked(ctx, tx, to, m)
}

// cleanAPITokenName trims a name and says what is wrong with it, if
// anything.
func cleanAPITokenName(name string) (string, string) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", "Give the token a name, so you can tell it apart from your other tokens."
	case !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", "A token name cannot contain tabs, line breaks or other control characters."
	case utf8.RuneCountInString(name) > MaxAPITokenNameLen:
		return "", fmt.Sprintf("A token name can be at most %d characters long.", MaxAPITokenNameLen)
	case len(name) > MaxAPITokenNameLen:
		return "", fmt.Sprintf("This name is too long: accented and non-Latin letters count more than once towards the %d characters.", MaxAPITokenNameLen)
	}
	return name, ""
}

// checkAPITokenExpiry says what is wrong with an expiry, if anything.
func checkAPITokenExpiry(expires, now time.Time) string {
	switch {
	case expires.IsZero():
		return ""
	case !expires.After(now):
		return "The expiry date must be in the future."
	case expires.After(now.Add(MaxAPITokenLifetime)):
		return "A token can expire at most a year from now. Choose an earlier date, or no expiry."
	}
	return ""
}

// apiTokenNameTaken says so when a live token of the user has the name,
// ignoring case. There is no unique index (revoked and expired tokens keep
// their names): the caller holds the user's lock.
func apiTokenNameTaken(ctx context.Context, client *ent.Client, userID int, name string, now time.Time) (string, error) {
	taken, err := client.APIToken.Query().
		Where(
			apitoken.UserID(userID),
			apitoken.NameEqualFold(name),
			apitoken.RevokedAtIsNil(),
			apitoken.Or(apitoken.ExpiresAtIsNil(), apitoken.ExpiresAtGT(now)),
		).
		Exist(ctx)
	if err != nil {
		return "", fmt.Errorf("account: check api token name of user %d: %w", userID, err)
	}
	if taken {
		return "You already have a token with this name. Choose another, or revoke the old one first.", nil
	}
	return "", nil
}

// apiTokenScope finds the project a token is scoped to: a project the
// user owns or maintains, or nil for the whole account when name is
// empty. Any other name gets a message that does not say whether such a
// project exists.
func apiTokenScope(ctx context.Context, client *ent.Client, userID int, name string) (*ent.Project, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, "", nil
	}
	p, err := client.Project.Query().
		Where(
			project.NameNormalized(NormalizeProjectName(name)),
			project.HasRolesWith(projectrole.UserID(userID), projectrole.RoleIn(projectrole.RoleOwner, projectrole.RoleMaintainer)),
		).
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, fmt.Sprintf("You are not an owner or maintainer of a project called %q.", name), nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("account: scope project %q of user %d: %w", name, userID, err)
	}
	return p, "", nil
}

func apiTokenInfo(r *ent.APIToken, scope *ent.Project, now time.Time) APITokenInfo {
	t := APITokenInfo{ID: r.ID, Name: r.Name, Prefix: r.Prefix, Created: r.CreatedAt}
	if scope != nil {
		t.Project = scope.Name
	}
	if r.ExpiresAt != nil {
		t.Expires = *r.ExpiresAt
		t.Expired = !now.Before(t.Expires)
	}
	if r.LastUsedAt != nil {
		t.LastUsed = *r.LastUsedAt
	}
	if r.RevokedAt != nil {
		t.Revoked = *r.RevokedAt
	}
	return t
}
