package account

import (
	"context"
	"fmt"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/pendinglogin"
)

// HeldFacts describe a held sign-in as its confirmation email does, so
// that the person who opens the link recognises it (or does not).
type HeldFacts struct {
	// At is when the sign-in was held.
	At time.Time
	// IP is the address the sign-in came from.
	IP string
	// Device is its browser as a short label ("Firefox 128 on Linux").
	Device string
}

// HeldFacts returns the facts of the held sign-in behind a confirmation
// link, for the page the link opens. It changes nothing: mail scanners
// open links too. It fails as ConfirmHeld would, with ErrTokenInvalid
// (unknown, or replaced by a re-sent link), ErrTokenUsed or
// ErrTokenExpired; whether this is the right browser is ConfirmHeld's to
// say, as only it records a wrong-browser attempt.
func (l *Login) HeldFacts(ctx context.Context, linkToken string) (HeldFacts, error) {
	if linkToken == "" || len(linkToken) > 128 {
		return HeldFacts{}, ErrTokenInvalid
	}
	held, err := l.st.Ent.PendingLogin.Query().Where(pendinglogin.TokenHash(hashToken(linkToken))).Only(ctx)
	if ent.IsNotFound(err) {
		return HeldFacts{}, ErrTokenInvalid
	}
	if err != nil {
		return HeldFacts{}, fmt.Errorf("account: find held login: %w", err)
	}
	switch {
	case held.ConfirmedAt != nil || held.ConsumedAt != nil:
		return HeldFacts{}, ErrTokenUsed
	case !l.now().Before(held.ExpiresAt):
		return HeldFacts{}, ErrTokenExpired
	}
	return HeldFacts{At: held.CreatedAt, IP: held.IP, Device: SummarizeUserAgent(held.UserAgent)}, nil
}
