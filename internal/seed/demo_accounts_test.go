package seed_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"encoding/base32"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/emailaddress"
	"github.com/recoverydesk/recoverydesk/ent/recoverycode"
	"github.com/recoverydesk/recoverydesk/ent/totpcredential"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/ent/webauthncredential"
	"github.com/recoverydesk/recoverydesk/internal/seed"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// recoveryCodeShape is what account.NewRecoveryCodes produces.
var recoveryCodeShape = regexp.MustCompile(`^[2-9a-hjkmnp-z]{4}(-[2-9a-hjkmnp-z]{4}){3}$`)

// accountFacts is what the database holds for one demo account.
type accountFacts struct {
	user        *ent.User
	totp        *ent.TOTPCredential // nil if none
	unusedCodes []string            // stored hashes
	usedCodes   int
	keys        []*ent.WebAuthnCredential
	emails      []*ent.EmailAddress
}

func loadAccount(t *testing.T, ctx context.Context, st *store.Store, username string) accountFacts {
	t.Helper()
	u, err := st.Ent.User.Query().Where(user.UsernameNormalized(username)).Only(ctx)
	if err != nil {
		t.Fatalf("load user %s: %v", username, err)
	}
	f := accountFacts{user: u}
	f.totp, err = st.Ent.TOTPCredential.Query().Where(totpcredential.UserID(u.ID)).Only(ctx)
	if ent.IsNotFound(err) {
		f.totp, err = nil, nil
	}
	if err != nil {
		t.Fatalf("load TOTP of %s: %v", username, err)
	}
	codes, err := st.Ent.RecoveryCode.Query().Where(recoverycode.UserID(u.ID)).All(ctx)
	if err != nil {
		t.Fatalf("load recovery codes of %s: %v", username, err)
	}
	for _, c := range codes {
		if c.Batch != 1 {
			t.Errorf("%s: recovery code in batch %d, want 1", username, c.Batch)
		}
		if c.UsedAt == nil {
			f.unusedCodes = append(f.unusedCodes, c.CodeHash)
		} else {
			f.usedCodes++
		}
	}
	if f.keys, err = st.Ent.WebAuthnCredential.Query().Where(webauthncredential.UserID(u.ID)).All(ctx); err != nil {
		t.Fatalf("load security keys of %s: %v", username, err)
	}
	if f.emails, err = st.Ent.EmailAddress.Query().Where(emailaddress.UserID(u.ID)).All(ctx); err != nil {
		t.Fatalf("load emails of %s: %v", username, err)
	}
	return f
}

// checkLogins checks every printed login against the database, then each
// account's particular situation.
func checkLogins(t *testing.T, ctx context.Context, st *store.Store, logins seed.Logins) {
	t.Helper()
	var names []string
	facts := map[string]accountFacts{}
	for _, l := range logins.Accounts {
		names = append(names, l.Username)
		f := loadAccount(t, ctx, st, l.Username)
		facts[l.Username] = f
		checkCommon(t, l, f)
	}
	if want := []string{"alice", "bob", "carol", "dave", "erin", "sam", "ada"}; !slices.Equal(names, want) {
		t.Fatalf("logins are %v, want %v", names, want)
	}
	login := func(name string) seed.Login {
		i := slices.IndexFunc(logins.Accounts, func(l seed.Login) bool { return l.Username == name })
		return logins.Accounts[i]
	}

	if f := facts["alice"]; f.totp != nil || len(f.keys) != 0 || len(f.unusedCodes)+f.usedCodes != 0 {
		t.Error("alice should have no second factor at all")
	}
	if l, f := login("bob"), facts["bob"]; l.TOTPSecret == "" || len(l.RecoveryCodes) != 8 || f.usedCodes != 0 {
		t.Errorf("bob: TOTP secret %q, %d codes printed, %d used; want a secret and 8 unused", l.TOTPSecret, len(l.RecoveryCodes), f.usedCodes)
	}
	if l, f := login("carol"), facts["carol"]; f.totp != nil || len(f.keys) != 1 || f.keys[0].Name != "YubiKey 5C" || len(l.RecoveryCodes) != 8 {
		t.Errorf("carol: want one security key \"YubiKey 5C\", no TOTP, 8 codes; got TOTP %v, %d keys, %d codes", f.totp != nil, len(f.keys), len(l.RecoveryCodes))
	} else if !strings.Contains(l.Situation, "placeholder") {
		t.Errorf("carol's situation should say her key is a placeholder: %q", l.Situation)
	}
	if l, f := login("dave"), facts["dave"]; f.totp == nil || l.TOTPSecret != "" || len(l.RecoveryCodes) != 2 || len(f.unusedCodes) != 2 || f.usedCodes != 6 {
		t.Errorf("dave: want a lost TOTP (stored, not printed) and 2 of 8 codes left; got stored %v, printed %q, %d printed, %d unused, %d used",
			f.totp != nil, l.TOTPSecret, len(l.RecoveryCodes), len(f.unusedCodes), f.usedCodes)
	}
	if l, f := login("erin"), facts["erin"]; f.totp == nil || l.TOTPSecret != "" || len(l.RecoveryCodes) != 0 || len(f.unusedCodes) != 0 || f.usedCodes != 8 {
		t.Errorf("erin: want a lost TOTP and all 8 codes used; got stored %v, printed %q, %d printed, %d unused, %d used",
			f.totp != nil, l.TOTPSecret, len(l.RecoveryCodes), len(f.unusedCodes), f.usedCodes)
	}
	if f := facts["erin"]; !slices.ContainsFunc(f.emails, func(e *ent.EmailAddress) bool { return !e.Primary && e.VerifiedAt == nil }) {
		t.Error("erin should also have an old, unverified secondary address")
	}
	if l, f := login("sam"), facts["sam"]; l.Role != "agent" || f.user.StaffRole != user.StaffRoleAgent || l.TOTPSecret == "" {
		t.Errorf("sam: role %q/%q, TOTP %q; want an agent with TOTP", l.Role, f.user.StaffRole, l.TOTPSecret)
	}
	if l, f := login("ada"), facts["ada"]; l.Role != "admin" || f.user.StaffRole != user.StaffRoleAdmin || l.TOTPSecret == "" || len(f.keys) != 1 {
		t.Errorf("ada: role %q/%q, TOTP %q, %d keys; want an admin with TOTP and a security key", l.Role, f.user.StaffRole, l.TOTPSecret, len(f.keys))
	}
	for _, name := range []string{"alice", "bob", "carol", "dave", "erin"} {
		if l := login(name); l.Role != "" || facts[name].user.StaffRole != user.StaffRoleNone {
			t.Errorf("%s should not be staff (role %q)", name, l.Role)
		}
	}
}

// checkCommon checks what holds for every account: the password, the
// primary address, and that printed secrets match stored ones.
func checkCommon(t *testing.T, l seed.Login, f accountFacts) {
	t.Helper()
	if len(l.Password) < 12 || l.Situation == "" {
		t.Errorf("%s: password %q too short or situation empty", l.Username, l.Password)
	}
	if f.user.PasswordHash == nil {
		t.Fatalf("%s has no password hash", l.Username)
	}
	if ok, _, err := account.VerifyPassword(*f.user.PasswordHash, l.Password, account.DefaultPasswordParams); err != nil || !ok {
		t.Errorf("%s: printed password does not verify (ok=%v, err=%v)", l.Username, ok, err)
	}
	if ok, _, _ := account.VerifyPassword(*f.user.PasswordHash, l.Password+"x", account.DefaultPasswordParams); ok {
		t.Errorf("%s: a wrong password verifies", l.Username)
	}
	primary := slices.IndexFunc(f.emails, func(e *ent.EmailAddress) bool { return e.Primary })
	if primary < 0 || f.emails[primary].Address != l.Username+"@example.org" || f.emails[primary].VerifiedAt == nil {
		t.Errorf("%s: want verified primary %s@example.org, have %v", l.Username, l.Username, f.emails)
	}
	if l.TOTPSecret != "" {
		secret, err := base32.StdEncoding.DecodeString(l.TOTPSecret)
		if err != nil || len(secret) != 20 {
			t.Errorf("%s: TOTP secret %q is not 20 bytes of base32 (err %v)", l.Username, l.TOTPSecret, err)
		}
		if f.totp == nil || !bytes.Equal(f.totp.Secret, secret) || f.totp.ConfirmedAt == nil {
			t.Errorf("%s: printed TOTP secret is not the stored, confirmed one", l.Username)
		}
	}
	var printed []string
	for _, code := range l.RecoveryCodes {
		if !recoveryCodeShape.MatchString(code) {
			t.Errorf("%s: recovery code %q is not shaped like account.NewRecoveryCodes'", l.Username, code)
		}
		printed = append(printed, account.HashRecoveryCode(code))
	}
	slices.Sort(printed)
	stored := slices.Sorted(slices.Values(f.unusedCodes))
	if !slices.Equal(printed, stored) {
		t.Errorf("%s: printed codes hash to %v, unused stored hashes are %v", l.Username, printed, stored)
	}
	for _, k := range f.keys {
		checkCOSEKey(t, l.Username+" "+k.Name, k.PublicKey)
	}
}

// checkCOSEKey checks a placeholder key is a COSE EC2/ES256/P-256 key whose
// point is on the curve, so WebAuthn code parsing it does not choke.
func checkCOSEKey(t *testing.T, name string, key []byte) {
	t.Helper()
	head := []byte{0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20}
	if len(key) != 77 || !bytes.Equal(key[:10], head) || !bytes.Equal(key[42:45], []byte{0x22, 0x58, 0x20}) {
		t.Errorf("%s: public key is not a COSE P-256 key: %x", name, key)
		return
	}
	point := append(append([]byte{0x04}, key[10:42]...), key[45:77]...)
	if _, err := ecdh.P256().NewPublicKey(point); err != nil {
		t.Errorf("%s: public key point is not on P-256: %v", name, err)
	}
}
