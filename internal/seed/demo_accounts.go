package seed

import (
	"context"
	"encoding/base32"
	"fmt"
	"strings"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/user"
)

// accountSpec is one demo account: its identity and its second factors.
type accountSpec struct {
	username    string
	displayName string
	password    string
	situation   string
	staffRole   user.StaffRole
	createdAt   time.Time
	lastLoginAt time.Time
	// totpAt is when the authenticator app was set up; zero means none.
	totpAt time.Time
	// totpLost: the credential exists but its owner lost the app, so the
	// secret is not printed.
	totpLost bool
	// codesAt is when the recovery codes were generated; zero means none.
	codesAt time.Time
	// codesUsed are the used_at times of the batch's first codes.
	codesUsed []time.Time
	keys      []keySpec
	// otherEmails are addresses besides the verified primary one.
	otherEmails []emailSpec
}

// keySpec is a security key on a demo account.
type keySpec struct {
	name       string
	transports []string
	createdAt  time.Time
	lastUsedAt time.Time
}

// emailSpec is a secondary address; a zero verifiedAt means unverified.
type emailSpec struct {
	address    string
	createdAt  time.Time
	verifiedAt time.Time
}

// demoAccounts lists the demo accounts in the order they are printed.
func demoAccounts() []accountSpec {
	return []accountSpec{
		{
			username: "alice", displayName: "Alice Lindqvist", password: "demo-alice-2026!",
			situation: "Password only, no 2FA yet: she can browse, but management pages send her to 2FA setup.",
			createdAt: at(2024, 5, 8, 10, 21), lastLoginAt: at(2026, 10, 29, 18, 2),
		},
		{
			username: "bob", displayName: "Bob Martins", password: "demo-bob-2026!",
			situation: "Authenticator app (TOTP secret below) and 8 unused recovery codes; owner of the acme-labs organization.",
			createdAt: at(2020, 6, 2, 8, 45), lastLoginAt: at(2026, 10, 31, 7, 55),
			totpAt: at(2021, 4, 12, 9, 10), codesAt: at(2021, 4, 12, 9, 11),
		},
		{
			username: "carol", displayName: "Carol Nguyen", password: "demo-carol-2026!",
			situation: `Security key "YubiKey 5C" plus 8 recovery codes. The key is a placeholder no authenticator holds, so in dev sign in with a recovery code.`,
			createdAt: at(2021, 1, 19, 14, 30), lastLoginAt: at(2026, 10, 20, 11, 4),
			codesAt: at(2023, 2, 6, 16, 22),
			keys: []keySpec{{name: "YubiKey 5C", transports: []string{"usb"},
				createdAt: at(2023, 2, 6, 16, 20), lastUsedAt: at(2026, 10, 20, 11, 4)}},
		},
		{
			username: "dave", displayName: "Dave Whitaker", password: "demo-dave-2026!",
			situation: "Lost his authenticator app (the TOTP credential still exists, its secret is not printed); only the 2 recovery codes below are left.",
			createdAt: at(2019, 9, 23, 19, 5), lastLoginAt: at(2026, 10, 12, 21, 17),
			totpAt: at(2020, 3, 2, 20, 40), totpLost: true, codesAt: at(2020, 3, 2, 20, 41),
			codesUsed: []time.Time{
				at(2026, 6, 3, 8, 12), at(2026, 6, 21, 19, 40), at(2026, 7, 15, 7, 3),
				at(2026, 8, 9, 22, 15), at(2026, 9, 14, 6, 58), at(2026, 10, 12, 21, 17),
			},
		},
		{
			username: "erin", displayName: "Erin Okafor", password: "demo-erin-2026!",
			situation: "Locked out: her authenticator app is gone and all 8 recovery codes are used. She filed recovery case " +
				erinCaseReference + ", waiting in the desk queue.",
			createdAt: at(2019, 3, 14, 11, 2), lastLoginAt: at(2026, 10, 28, 8, 31),
			totpAt: at(2019, 6, 1, 15, 30), totpLost: true, codesAt: at(2019, 6, 1, 15, 31),
			codesUsed: []time.Time{
				at(2024, 2, 11, 9, 20), at(2024, 9, 30, 17, 45), at(2025, 3, 17, 8, 5), at(2025, 8, 4, 20, 33),
				at(2025, 12, 22, 10, 10), at(2026, 4, 9, 13, 27), at(2026, 8, 26, 7, 49), at(2026, 10, 28, 8, 31),
			},
			otherEmails: []emailSpec{{address: "erin.okafor@example.net", createdAt: at(2019, 3, 14, 11, 2)}},
		},
		{
			username: "sam", displayName: "Sam Rivera", password: "demo-sam-2026!",
			situation: "Desk agent: works the case queue. Authenticator app (TOTP secret below) and 8 recovery codes.",
			staffRole: user.StaffRoleAgent,
			createdAt: at(2022, 2, 7, 9, 0), lastLoginAt: at(2026, 10, 31, 8, 58),
			totpAt: at(2022, 2, 7, 9, 20), codesAt: at(2022, 2, 7, 9, 21),
		},
		{
			username: "ada", displayName: "Ada Kowalski", password: "demo-ada-2026!",
			situation: `Desk admin: approves 2FA resets. Authenticator app (TOTP secret below), 8 recovery codes and a placeholder security key "YubiKey 5 NFC" (unusable in dev: approving a reset needs a security-key sign-in, so add a virtual one from Chrome DevTools on /account/security; see the README).`,
			staffRole: user.StaffRoleAdmin,
			createdAt: at(2020, 11, 30, 10, 0), lastLoginAt: at(2026, 10, 31, 9, 12),
			totpAt: at(2020, 11, 30, 10, 15), codesAt: at(2020, 11, 30, 10, 16),
			keys: []keySpec{{name: "YubiKey 5 NFC", transports: []string{"nfc", "usb"},
				createdAt: at(2021, 1, 11, 13, 40), lastUsedAt: at(2026, 10, 31, 9, 12)}},
		},
	}
}

// loginsOf is what an owner of each account holds; it needs no database,
// which is why an existing demo set can return it unchanged.
func loginsOf(accounts []accountSpec) Logins {
	var out Logins
	for _, a := range accounts {
		l := Login{Username: a.username, Password: a.password, Situation: a.situation}
		if !a.totpAt.IsZero() && !a.totpLost {
			l.TOTPSecret = totpSecret(a.username)
		}
		if !a.codesAt.IsZero() {
			l.RecoveryCodes = recoveryCodes(a.username)[len(a.codesUsed):]
		}
		if a.staffRole != "" && a.staffRole != user.StaffRoleNone {
			l.Role = string(a.staffRole)
		}
		out.Accounts = append(out.Accounts, l)
	}
	return out
}

// demoUsers maps demo usernames to their user IDs.
type demoUsers map[string]int

// insertAccounts creates the accounts with their addresses and factors.
func insertAccounts(ctx context.Context, client *ent.Client, accounts []accountSpec) (demoUsers, error) {
	users := demoUsers{}
	for _, a := range accounts {
		id, err := insertAccount(ctx, client, a)
		if err != nil {
			return nil, fmt.Errorf("seed: account %s: %w", a.username, err)
		}
		users[a.username] = id
	}
	return users, nil
}

func insertAccount(ctx context.Context, client *ent.Client, a accountSpec) (int, error) {
	hash, err := account.HashPassword(a.password, account.DefaultPasswordParams)
	if err != nil {
		return 0, err
	}
	role := a.staffRole
	if role == "" {
		role = user.StaffRoleNone
	}
	u, err := client.User.Create().
		SetUsername(a.username).
		SetUsernameNormalized(strings.ToLower(a.username)).
		SetDisplayName(a.displayName).
		SetPasswordHash(hash).
		SetPasswordChangedAt(a.createdAt).
		SetStaffRole(role).
		SetLastLoginAt(a.lastLoginAt).
		SetCreatedAt(a.createdAt).
		SetUpdatedAt(a.createdAt).
		Save(ctx)
	if err != nil {
		return 0, fmt.Errorf("create user: %w", err)
	}
	primary := a.username + "@example.org"
	emails := []*ent.EmailAddressCreate{client.EmailAddress.Create().
		SetUserID(u.ID).SetAddress(primary).SetAddressNormalized(strings.ToLower(primary)).
		SetPrimary(true).SetVerifiedAt(a.createdAt.Add(7 * time.Minute)).SetCreatedAt(a.createdAt)}
	for _, e := range a.otherEmails {
		c := client.EmailAddress.Create().
			SetUserID(u.ID).SetAddress(e.address).SetAddressNormalized(strings.ToLower(e.address)).
			SetCreatedAt(e.createdAt)
		if !e.verifiedAt.IsZero() {
			c.SetVerifiedAt(e.verifiedAt)
		}
		emails = append(emails, c)
	}
	if _, err := client.EmailAddress.CreateBulk(emails...).Save(ctx); err != nil {
		return 0, fmt.Errorf("create email addresses: %w", err)
	}
	if err := insertFactors(ctx, client, u.ID, a); err != nil {
		return 0, err
	}
	return u.ID, nil
}

// insertFactors stores the TOTP secret, the recovery codes (batch 1) and
// the security keys of a.
func insertFactors(ctx context.Context, client *ent.Client, userID int, a accountSpec) error {
	if !a.totpAt.IsZero() {
		secret, err := base32.StdEncoding.DecodeString(totpSecret(a.username))
		if err != nil {
			return fmt.Errorf("decode TOTP secret: %w", err)
		}
		if err := client.TOTPCredential.Create().
			SetUserID(userID).SetSecret(secret).
			SetCreatedAt(a.totpAt).SetConfirmedAt(a.totpAt.Add(time.Minute)).
			Exec(ctx); err != nil {
			return fmt.Errorf("create TOTP credential: %w", err)
		}
	}
	if !a.codesAt.IsZero() {
		codes := recoveryCodes(a.username)
		rows := make([]*ent.RecoveryCodeCreate, len(codes))
		for i, code := range codes {
			rows[i] = client.RecoveryCode.Create().
				SetUserID(userID).SetCodeHash(account.HashRecoveryCode(code)).SetBatch(1).
				SetCreatedAt(a.codesAt)
			if i < len(a.codesUsed) {
				rows[i].SetUsedAt(a.codesUsed[i])
			}
		}
		if _, err := client.RecoveryCode.CreateBulk(rows...).Save(ctx); err != nil {
			return fmt.Errorf("create recovery codes: %w", err)
		}
	}
	for _, k := range a.keys {
		credentialID, publicKey, err := securityKey(a.username + " " + k.name)
		if err != nil {
			return err
		}
		if err := client.WebAuthnCredential.Create().
			SetUserID(userID).SetName(k.name).
			SetCredentialID(credentialID).SetPublicKey(publicKey).
			SetAttestationType("none").SetAaguid(make([]byte, 16)).
			SetTransports(k.transports).
			SetCreatedAt(k.createdAt).SetLastUsedAt(k.lastUsedAt).
			Exec(ctx); err != nil {
			return fmt.Errorf("create security key %q: %w", k.name, err)
		}
	}
	return nil
}
