package account

import (
	"context"
	"fmt"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/session"
	"github.com/recoverydesk/recoverydesk/ent/webauthncredential"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// Adding and removing second factors from the security page. Each change
// commits with its security event and its notice to the owner in one
// transaction (TOTP and WebAuthn alone only store credentials), so a
// factor never changes without the owner hearing of it.

// keyRegisterState is the key, in a session's data, of the WebAuthn
// registration state between BeginKeyRegistration and its finish. Kept
// server-side so that it is used once: finishing removes it, and a copied
// request cannot finish a second time.
const keyRegisterState = "webauthn_register"

// ConfirmTOTPEnrolment turns the user's pending authenticator app into a
// second factor once code matches (TOTP.ConfirmEnrolment's errors), records
// EventTOTPAdded and mails the owner.
func (s *Services) ConfirmTOTPEnrolment(ctx context.Context, userID int, code string, at Attempt) error {
	return s.Security.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := s.TOTP.ConfirmEnrolment(ctx, tx.Ent, userID, code); err != nil {
			return err
		}
		return s.factorChanged(ctx, tx, userID, EventTOTPAdded, "totp", "", at)
	})
}

// RemoveTOTP removes the user's authenticator app (ErrLastSecondFactor
// when it is the only factor left, ErrTOTPNotEnrolled when there is none),
// records EventTOTPRemoved and mails the owner. A setup that was never
// confirmed is dropped without an event or mail. The caller checks
// Security.RequireReauth first.
func (s *Services) RemoveTOTP(ctx context.Context, userID int, at Attempt) error {
	return s.Security.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		// Locked before reading, so the answer holds until the delete.
		if err := lockUserForKeys(ctx, tx.Ent, userID); err != nil {
			return err
		}
		before, err := LoadSecondFactors(ctx, tx.Ent, userID)
		if err != nil {
			return err
		}
		if err := s.TOTP.Remove(ctx, tx.Ent, userID); err != nil {
			return err
		}
		if !before.TOTP {
			return nil
		}
		return s.factorChanged(ctx, tx, userID, EventTOTPRemoved, "totp", "", at)
	})
}

// BeginKeyRegistration starts adding a security key for the user signed in
// with session sessionID and returns the options JSON for
// navigator.credentials.create. The ceremony state is kept in the session
// row (replacing any earlier unfinished one) for FinishKeyRegistration.
func (s *Services) BeginKeyRegistration(ctx context.Context, sessionID, userID int) ([]byte, error) {
	options, state, err := s.WebAuthn.BeginRegistration(ctx, userID)
	if err != nil {
		return nil, err
	}
	err = s.putSessionState(ctx, sessionID, userID, keyRegisterState, "key registration", state)
	if err != nil {
		return nil, err
	}
	return options, nil
}

// CheckKeyName reports whether name would be accepted for a new key of
// the user (ErrKeyNameInvalid, ErrKeyNameTaken), so a page can refuse it
// before the person touches their key. FinishKeyRegistration checks again.
func (s *Services) CheckKeyName(ctx context.Context, userID int, name string) error {
	clean, err := cleanKeyName(name)
	if err != nil {
		return err
	}
	return checkKeyNameFree(ctx, s.Security.st.Ent, userID, clean, 0)
}

// FinishKeyRegistration verifies the browser's answer (PublicKeyCredential
// JSON) to BeginKeyRegistration and stores the key under name, records
// EventWebAuthnAdded and mails the owner. A refused name (ErrKeyNameInvalid,
// ErrKeyNameTaken) leaves the ceremony open, so the same answer can be sent
// again with another name; anything else uses it up. Without a begun
// ceremony it returns ErrCeremonyExpired.
func (s *Services) FinishKeyRegistration(ctx context.Context, sessionID, userID int, name string, response []byte, at Attempt) (*ent.WebAuthnCredential, error) {
	if err := s.CheckKeyName(ctx, userID, name); err != nil {
		return nil, err
	}
	state, err := s.takeKeyRegistration(ctx, sessionID, userID)
	if err != nil {
		return nil, err
	}
	var key *ent.WebAuthnCredential
	err = s.Security.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		key, err = s.WebAuthn.FinishRegistration(ctx, tx.Ent, userID, name, state, response)
		if err != nil {
			return err
		}
		return s.factorChanged(ctx, tx, userID, EventWebAuthnAdded, keyMethod(key), key.Name, at)
	})
	if err != nil {
		return nil, err
	}
	return key, nil
}

// takeKeyRegistration removes and returns the registration state kept in
// the session (see takeSessionState).
func (s *Services) takeKeyRegistration(ctx context.Context, sessionID, userID int) ([]byte, error) {
	return s.takeSessionState(ctx, sessionID, userID, keyRegisterState, "key registration")
}

// putSessionState keeps a ceremony's state under key in the session's data,
// replacing an earlier unfinished one, for takeSessionState to use once.
func (s *Services) putSessionState(ctx context.Context, sessionID, userID int, key, what string, state []byte) error {
	return s.Security.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		row, err := userSessionForUpdate(ctx, tx.Ent, sessionID, userID)
		if err != nil {
			return err
		}
		data := make(map[string]any, len(row.Data)+1)
		for k, v := range row.Data {
			data[k] = v
		}
		data[key] = string(state)
		if err := tx.Ent.Session.UpdateOneID(row.ID).SetData(data).Exec(ctx); err != nil {
			return fmt.Errorf("account: keep %s of session %d: %w", what, sessionID, err)
		}
		return nil
	})
}

// takeSessionState removes and returns the ceremony state kept under key in
// the session's data, committing the removal on its own: a failed
// verification must not leave the state usable.
func (s *Services) takeSessionState(ctx context.Context, sessionID, userID int, key, what string) ([]byte, error) {
	var state string
	err := s.Security.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		row, err := userSessionForUpdate(ctx, tx.Ent, sessionID, userID)
		if err != nil {
			return err
		}
		state, _ = row.Data[key].(string)
		if state == "" {
			return fmt.Errorf("account: no %s in progress for session %d: %w", what, sessionID, ErrCeremonyExpired)
		}
		data := make(map[string]any, len(row.Data))
		for k, v := range row.Data {
			if k != key {
				data[k] = v
			}
		}
		if err := tx.Ent.Session.UpdateOneID(row.ID).SetData(data).Exec(ctx); err != nil {
			return fmt.Errorf("account: use up %s of session %d: %w", what, sessionID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return []byte(state), nil
}

// RemoveKey removes security key keyID of the user (ErrKeyNotFound when it
// is not theirs, ErrLastSecondFactor when nothing else would be left),
// records EventWebAuthnRemoved and mails the owner. The caller checks
// Security.RequireReauth first.
func (s *Services) RemoveKey(ctx context.Context, userID, keyID int, at Attempt) error {
	return s.Security.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		key, err := tx.Ent.WebAuthnCredential.Query().
			Where(webauthncredential.ID(keyID), webauthncredential.UserID(userID)).
			Only(ctx)
		if ent.IsNotFound(err) {
			return fmt.Errorf("account: remove key %d of user %d: %w", keyID, userID, ErrKeyNotFound)
		}
		if err != nil {
			return fmt.Errorf("account: find key %d of user %d: %w", keyID, userID, err)
		}
		if err := s.WebAuthn.RemoveKey(ctx, tx.Ent, userID, keyID); err != nil {
			return err
		}
		return s.factorChanged(ctx, tx, userID, EventWebAuthnRemoved, keyMethod(key), key.Name, at)
	})
}

// factorChanged records the event of a second-factor change and queues
// the notice to the owner's primary address, in the change's transaction.
func (s *Services) factorChanged(ctx context.Context, tx *store.Tx, userID int, kind EventKind, method, name string, at Attempt) error {
	details := map[string]any{DetailMethod: method}
	if name != "" {
		details["name"] = name
	}
	if err := RecordChange(ctx, tx, userID, kind, at.events(), details); err != nil {
		return err
	}
	u, to, err := primaryAddress(ctx, tx.Ent, userID)
	if err != nil {
		return err
	}
	m := SecondFactorMail{UserID: userID, Username: u.Username, Method: method, Name: name, Origin: at.origin(s.Security.now())}
	if kind == EventTOTPAdded || kind == EventWebAuthnAdded {
		return s.Mailer.SendSecondFactorAdded(ctx, tx, to, m)
	}
	return s.Mailer.SendSecondFactorRemoved(ctx, tx, to, m)
}

// keyMethod names a key for events and mail: a passkey or a security key.
func keyMethod(k *ent.WebAuthnCredential) string {
	if k.Discoverable {
		return "passkey"
	}
	return "webauthn"
}

// userSessionForUpdate locks the live session sessionID of userID.
func userSessionForUpdate(ctx context.Context, client *ent.Client, sessionID, userID int) (*ent.Session, error) {
	row, err := client.Session.Query().
		Where(session.ID(sessionID), session.UserID(userID), session.RevokedAtIsNil()).
		ForUpdate().
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrSessionNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("account: load session %d: %w", sessionID, err)
	}
	return row, nil
}
