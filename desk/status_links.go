package desk

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/url"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/actiontoken"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// StatusLinkTTL is how long a status link minted by staff (the
// {{status_link}} placeholder) keeps working. The case keeps only a hash
// of the requester's original token, so staff cannot repeat that link;
// they mint a new one instead.
const StatusLinkTTL = 90 * 24 * time.Hour

// mintStatusLink stores a new case_status action token for case c and
// returns the absolute status link carrying it.
func (t *Triage) mintStatusLink(ctx context.Context, tx *store.Tx, c *ent.SupportCase, now time.Time) (string, error) {
	token, hash, err := newStatusToken()
	if err != nil {
		return "", err
	}
	if err := tx.Ent.ActionToken.Create().
		SetPurpose(actiontoken.PurposeCaseStatus).
		SetTokenHash(hash).
		SetCaseID(c.ID).
		SetExpiresAt(now.Add(StatusLinkTTL)).
		SetCreatedAt(now).
		Exec(ctx); err != nil {
		return "", fmt.Errorf("desk: status link for %s: %w", c.Reference, err)
	}
	u := t.baseURL.JoinPath(PathCaseStatus, c.Reference)
	u.RawQuery = url.Values{"token": {token}}.Encode()
	return u.String(), nil
}

// statusLinkCase reports whether token is a live case_status action token
// of case caseID. The lookup is by the token's hash, so it leaks nothing
// through timing about other tokens.
func statusLinkCase(ctx context.Context, client *ent.Client, caseID int, token string, now time.Time) (bool, error) {
	ok, err := client.ActionToken.Query().
		Where(actiontoken.TokenHash(tokenHash(token)),
			actiontoken.PurposeEQ(actiontoken.PurposeCaseStatus),
			actiontoken.CaseID(caseID),
			actiontoken.ExpiresAtGT(now)).
		Exist(ctx)
	if err != nil {
		return false, fmt.Errorf("desk: status link of case %d: %w", caseID, err)
	}
	return ok, nil
}

// tokenHash is what the database keeps of a secret link token (status
// and cancel links): its SHA-256, so a leaked table opens nothing.
func tokenHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
