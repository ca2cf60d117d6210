package account

import (
	"context"
	"net/mail"

	"github.com/recoverydesk/recoverydesk/internal/store"
)

// MailPrimaryEmailChanged is the purpose of the "primary address changed"
// notice.
const MailPrimaryEmailChanged = "primary_email_changed"

// PrimaryEmailChangedMail reports a new primary address; it goes to the
// previous primary address, which would no longer hear of password resets.
type PrimaryEmailChangedMail struct {
	UserID   int
	Username string
	// Address is the new primary address.
	Address string
	Origin  MailOrigin
}

// SendPrimaryEmailChanged queues the "primary email address changed"
// notice to to.
func (m *Mailer) SendPrimaryEmailChanged(ctx context.Context, tx *store.Tx, to mail.Address, p PrimaryEmailChangedMail) error {
	d := m.data(p.Username, p.Origin)
	d.Address = p.Address
	return m.queue(ctx, tx, to, MailPrimaryEmailChanged, p.UserID, d)
}
