package account

import (
	"context"
	"net/mail"
	"strconv"

	"github.com/recoverydesk/recoverydesk/internal/store"
)

// Purposes of the API token notices.
const (
	MailAPITokenCreated = "api_token_created"
	MailAPITokenRevoked = "api_token_revoked"
)

// PathAPITokens is the account's API token page; web's routes use it too.
const PathAPITokens = "/account/tokens"

// APITokenMail reports a token created or revoked. It names the token by
// its name and public prefix, never its secret.
type APITokenMail struct {
	UserID   int
	Username string
	Token    APITokenInfo
	Origin   MailOrigin
}

// SendAPITokenCreated queues the "new API token" notice to to.
func (m *Mailer) SendAPITokenCreated(ctx context.Context, tx *store.Tx, to mail.Address, p APITokenMail) error {
	return m.queue(ctx, tx, to, MailAPITokenCreated, p.UserID, m.apiTokenData(p))
}

// SendAPITokenRevoked queues the "API token revoked" notice to to.
func (m *Mailer) SendAPITokenRevoked(ctx context.Context, tx *store.Tx, to mail.Address, p APITokenMail) error {
	return m.queue(ctx, tx, to, MailAPITokenRevoked, p.UserID, m.apiTokenData(p))
}

func (m *Mailer) apiTokenData(p APITokenMail) mailData {
	d := m.data(p.Username, p.Origin)
	d.TokenName = p.Token.Name
	d.TokenPrefix = p.Token.Prefix
	d.TokenScope = "Every project of your account, including new ones"
	if p.Token.Project != "" {
		d.TokenScope = "Only the project " + strconv.Quote(p.Token.Project)
	}
	d.TokenExpiry = "Never (until revoked)"
	if !p.Token.Expires.IsZero() {
		d.TokenExpiry = p.Token.Expires.UTC().Format("2 January 2006 at 15:04 UTC")
	}
	d.Link = m.link(PathAPITokens, "")
	d.Action = "Review your API tokens"
	return d
}
