package account

import (
	"context"
	"errors"
	"fmt"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/recoverycode"
	"github.com/recoverydesk/recoverydesk/ent/totpcredential"
	"github.com/recoverydesk/recoverydesk/ent/webauthncredential"
)

// ErrLastSecondFactor refuses removing the only remaining second factor:
// an account with 2FA must keep at least one way to pass it.
var ErrLastSecondFactor = errors.New("account: this is your last second factor; add another before removing it")

// SecondFactors says which second factors a user has. Recovery codes are a
// fallback, not a factor of their own: they do not keep 2FA alive.
type SecondFactors struct {
	TOTP     bool
	WebAuthn int // registered security keys and passkeys
	Passkeys int // of which discoverable
	// HasRecovery: unused recovery codes remain.
	HasRecovery bool
}

// Count is the number of second factors that count for "has 2FA".
func (f SecondFactors) Count() int {
	n := f.WebAuthn
	if f.TOTP {
		n++
	}
	return n
}

// Enabled reports whether the user has 2FA.
func (f SecondFactors) Enabled() bool { return f.Count() > 0 }

// LoadSecondFactors reads a user's second factors; client may be a
// transaction's client so the answer holds for the rest of it.
func LoadSecondFactors(ctx context.Context, client *ent.Client, userID int) (SecondFactors, error) {
	var f SecondFactors
	var err error
	f.TOTP, err = client.TOTPCredential.Query().
		Where(totpcredential.UserID(userID), totpcredential.ConfirmedAtNotNil()).
		Exist(ctx)
	if err != nil {
		return f, fmt.Errorf("account: load TOTP of user %d: %w", userID, err)
	}
	keys, err := client.WebAuthnCredential.Query().Where(webauthncredential.UserID(userID)).All(ctx)
	if err != nil {
		return f, fmt.Errorf("account: load security keys of user %d: %w", userID, err)
	}
	f.WebAuthn = len(keys)
	for _, k := range keys {
		if k.Discoverable {
			f.Passkeys++
		}
	}
	f.HasRecovery, err = client.RecoveryCode.Query().
		Where(recoverycode.UserID(userID), recoverycode.UsedAtIsNil()).
		Exist(ctx)
	if err != nil {
		return f, fmt.Errorf("account: load recovery codes of user %d: %w", userID, err)
	}
	return f, nil
}
