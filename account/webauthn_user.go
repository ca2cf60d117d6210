package account

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/ent/webauthncredential"
)

// A key's label is at most 64 characters, and at most the 100 bytes the
// column holds (ent's MaxLen counts bytes; only names of many non-Latin
// characters come near it).
const (
	maxKeyNameRunes = 64
	maxKeyNameBytes = 100
)

// webAuthnUser adapts a user and their keys to go-webauthn's User.
type webAuthnUser struct {
	user *ent.User
	keys []*ent.WebAuthnCredential
}

// userHandle is the WebAuthn user handle of a user: SHA-256 of
// "rd-user:<id>". Authenticators store it with a passkey and password
// managers may sync it, so it carries no username or email and is not the
// id in clear; it is stable, so registering the same authenticator twice
// replaces its passkey for the account rather than adding a second one.
// It needs no column and no inverse: a passkey answer names its
// credential ID, which finds the key and its owner, and the handle is then
// checked to be that owner's (loadKeyOwner, then go-webauthn).
func userHandle(userID int) []byte {
	sum := sha256.Sum256([]byte("rd-user:" + strconv.Itoa(userID)))
	return sum[:]
}

// WebAuthnID is the user handle.
func (u *webAuthnUser) WebAuthnID() []byte { return userHandle(u.user.ID) }

// WebAuthnName is the account name the authenticator shows.
func (u *webAuthnUser) WebAuthnName() string { return u.user.Username }

// WebAuthnDisplayName is the friendly name, falling back to the username.
func (u *webAuthnUser) WebAuthnDisplayName() string {
	if u.user.DisplayName != "" {
		return u.user.DisplayName
	}
	return u.user.Username
}

// WebAuthnCredentials converts the stored keys to credential records.
func (u *webAuthnUser) WebAuthnCredentials() []webauthn.Credential {
	creds := make([]webauthn.Credential, 0, len(u.keys))
	for _, k := range u.keys {
		creds = append(creds, credentialRecord(k))
	}
	return creds
}

// key returns the stored key with this credential ID, or nil.
func (u *webAuthnUser) key(credentialID []byte) *ent.WebAuthnCredential {
	for _, k := range u.keys {
		if bytes.Equal(k.CredentialID, credentialID) {
			return k
		}
	}
	return nil
}

// credentialRecord rebuilds go-webauthn's record from a row. Only what
// verification reads is needed: ID, public key, counter, transports (for
// allow/exclude lists) and the backup flags (BE must never change).
func credentialRecord(k *ent.WebAuthnCredential) webauthn.Credential {
	flags := protocol.FlagUserPresent
	if k.BackupEligible {
		flags |= protocol.FlagBackupEligible
	}
	if k.BackupState {
		flags |= protocol.FlagBackupState
	}
	transports := make([]protocol.AuthenticatorTransport, 0, len(k.Transports))
	for _, t := range k.Transports {
		transports = append(transports, protocol.AuthenticatorTransport(t))
	}
	return webauthn.Credential{
		ID:              k.CredentialID,
		PublicKey:       k.PublicKey,
		AttestationType: k.AttestationType,
		Transport:       transports,
		Flags:           webauthn.NewCredentialFlags(flags),
		Authenticator:   webauthn.Authenticator{AAGUID: k.Aaguid, SignCount: k.SignCount},
	}
}

// loadWebAuthnUser reads a user and their keys.
func loadWebAuthnUser(ctx context.Context, client *ent.Client, userID int) (*webAuthnUser, error) {
	u, err := client.User.Get(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("account: load user %d: %w", userID, err)
	}
	keys, err := client.WebAuthnCredential.Query().
		Where(webauthncredential.UserID(userID)).
		Order(ent.Asc(webauthncredential.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("account: load keys of user %d: %w", userID, err)
	}
	return &webAuthnUser{user: u, keys: keys}, nil
}

// loadKeyOwner finds the owner of a credential ID, for passkey sign-in.
func loadKeyOwner(ctx context.Context, client *ent.Client, credentialID []byte) (*webAuthnUser, error) {
	k, err := client.WebAuthnCredential.Query().Where(webauthncredential.CredentialID(credentialID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, fmt.Errorf("account: passkey sign-in with an unknown credential: %w", ErrKeyNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("account: find passkey: %w", err)
	}
	return loadWebAuthnUser(ctx, client, k.UserID)
}

// cleanKeyName trims a key name and checks its length and characters.
func cleanKeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	n := utf8.RuneCountInString(name)
	if n == 0 || n > maxKeyNameRunes || len(name) > maxKeyNameBytes ||
		!utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", ErrKeyNameInvalid
	}
	return name, nil
}

// checkKeyNameFree refuses a name another key of the user has (ignoring
// case, so the list never shows two look-alikes); except is the key being
// renamed. There is no unique index: lockUserForKeys serialises writers
// inside a transaction.
func checkKeyNameFree(ctx context.Context, client *ent.Client, userID int, name string, except int) error {
	taken, err := client.WebAuthnCredential.Query().
		Where(webauthncredential.UserID(userID), webauthncredential.NameEqualFold(name), webauthncredential.IDNEQ(except)).
		Exist(ctx)
	if err != nil {
		return fmt.Errorf("account: check key name of user %d: %w", userID, err)
	}
	if taken {
		return ErrKeyNameTaken
	}
	return nil
}

// lockUserForKeys locks the user row for the rest of the caller's
// transaction, so two requests cannot both pass the name or last-factor
// checks. Outside a transaction it only checks the user exists.
func lockUserForKeys(ctx context.Context, client *ent.Client, userID int) error {
	if _, err := client.User.Query().Where(user.ID(userID)).ForUpdate().OnlyID(ctx); err != nil {
		return fmt.Errorf("account: lock user %d: %w", userID, err)
	}
	return nil
}

// ListKeys returns the user's security keys and passkeys, oldest first.
func (w *WebAuthn) ListKeys(ctx context.Context, userID int) ([]*ent.WebAuthnCredential, error) {
	keys, err := w.client.WebAuthnCredential.Query().
		Where(webauthncredential.UserID(userID)).
		Order(ent.Asc(webauthncredential.FieldCreatedAt), ent.Asc(webauthncredential.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("account: list keys of user %d: %w", userID, err)
	}
	return keys, nil
}

// RenameKey gives key credID of userID a new name; client may be a
// transaction's client (nil: the service's).
func (w *WebAuthn) RenameKey(ctx context.Context, client *ent.Client, userID, credID int, name string) (*ent.WebAuthnCredential, error) {
	if client == nil {
		client = w.client
	}
	name, err := cleanKeyName(name)
	if err != nil {
		return nil, err
	}
	if err := lockUserForKeys(ctx, client, userID); err != nil {
		return nil, err
	}
	if err := checkKeyNameFree(ctx, client, userID, name, credID); err != nil {
		return nil, err
	}
	key, err := client.WebAuthnCredential.UpdateOneID(credID).
		Where(webauthncredential.UserID(userID)).
		SetName(name).
		Save(ctx)
	if ent.IsNotFound(err) {
		return nil, fmt.Errorf("account: rename key %d of user %d: %w", credID, userID, ErrKeyNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("account: rename key %d of user %d: %w", credID, userID, err)
	}
	return key, nil
}

// RemoveKey deletes key credID of userID, refusing with
// ErrLastSecondFactor when nothing else (another key, a confirmed TOTP)
// would be left. Call it in a transaction (client = tx.Ent) so the check
// and the delete hold together; nil client uses the service's.
func (w *WebAuthn) RemoveKey(ctx context.Context, client *ent.Client, userID, credID int) error {
	if client == nil {
		client = w.client
	}
	if err := lockUserForKeys(ctx, client, userID); err != nil {
		return err
	}
	exists, err := client.WebAuthnCredential.Query().
		Where(webauthncredential.ID(credID), webauthncredential.UserID(userID)).
		Exist(ctx)
	if err != nil {
		return fmt.Errorf("account: find key %d of user %d: %w", credID, userID, err)
	}
	if !exists {
		return fmt.Errorf("account: remove key %d of user %d: %w", credID, userID, ErrKeyNotFound)
	}
	factors, err := LoadSecondFactors(ctx, client, userID)
	if err != nil {
		return err
	}
	if factors.Count() <= 1 {
		return ErrLastSecondFactor
	}
	n, err := client.WebAuthnCredential.Delete().
		Where(webauthncredential.ID(credID), webauthncredential.UserID(userID)).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("account: remove key %d of user %d: %w", credID, userID, err)
	}
	if n == 0 {
		return fmt.Errorf("account: remove key %d of user %d: %w", credID, userID, ErrKeyNotFound)
	}
	return nil
}
