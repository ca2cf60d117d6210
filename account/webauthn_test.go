package account_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

const waOrigin = "https://rd.example.test"

type waFixture struct {
	ctx  context.Context
	ent  *ent.Client
	clk  *clock
	wa   *account.WebAuthn
	user *ent.User
}

func newWAFixture(t *testing.T) *waFixture {
	t.Helper()
	st := testdb.Store(t)
	base, _ := url.Parse(waOrigin)
	clk := &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	wa, err := account.NewWebAuthn(st.Ent, account.WebAuthnConfigFromBaseURL("Recovery Desk", base), clk.now)
	if err != nil {
		t.Fatal(err)
	}
	return &waFixture{ctx: context.Background(), ent: st.Ent, clk: clk, wa: wa, user: makeUser(t, st.Ent)}
}

// register runs a whole registration ceremony of key for userID.
func (f *waFixture) register(t *testing.T, userID int, key *softKey, name string) *ent.WebAuthnCredential {
	t.Helper()
	opts, state, err := f.wa.BeginRegistration(f.ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := f.wa.FinishRegistration(f.ctx, nil, userID, name, state, key.create(opts))
	if err != nil {
		t.Fatalf("register %q: %v", name, err)
	}
	return cred
}

// login runs a second-factor login ceremony with key.
func (f *waFixture) login(t *testing.T, userID int, key *softKey) (*ent.WebAuthnCredential, error) {
	t.Helper()
	opts, state, err := f.wa.BeginLogin(f.ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	return f.wa.FinishLogin(f.ctx, userID, state, key.get(opts))
}

func TestWebAuthnRegisterAndLogin(t *testing.T) {
	t.Parallel()
	f := newWAFixture(t)
	key := newSoftKey(t, waOrigin)

	cred := f.register(t, f.user.ID, key, "  YubiKey 5  ")
	if cred.Name != "YubiKey 5" || cred.UserID != f.user.ID || !bytes.Equal(cred.CredentialID, key.credID) {
		t.Fatalf("stored %+v", cred)
	}
	if cred.Discoverable || cred.BackupEligible || cred.BackupState || cred.SignCount != 0 || cred.AttestationType != "none" {
		t.Fatalf("flags of a plain security key: %+v", cred)
	}
	if !bytes.Equal(cred.Aaguid, key.aaguid[:]) || strings.Join(cred.Transports, ",") != "usb,nfc" || cred.LastUsedAt != nil {
		t.Fatalf("aaguid/transports/last use: %+v", cred)
	}
	// The user handle the authenticator got is opaque: 32 bytes, neither
	// the username nor the id in clear.
	if len(key.userHandle) != 32 || bytes.Contains(key.userHandle, []byte(f.user.Username)) ||
		bytes.Contains(key.userHandle, []byte(strconv.Itoa(f.user.ID))) {
		t.Fatalf("user handle %x leaks the account", key.userHandle)
	}

	f.clk.t = f.clk.t.Add(time.Hour)
	used, err := f.login(t, f.user.ID, key)
	if err != nil {
		t.Fatal(err)
	}
	if used.ID != cred.ID || used.SignCount != 1 || used.LastUsedAt == nil || !used.LastUsedAt.Equal(f.clk.t) {
		t.Fatalf("after login: %+v", used)
	}
	used, err = f.login(t, f.user.ID, key)
	if err != nil || used.SignCount != 2 {
		t.Fatalf("second login: %+v, %v", used, err)
	}

	keys, err := f.wa.ListKeys(f.ctx, f.user.ID)
	if err != nil || len(keys) != 1 || keys[0].SignCount != 2 {
		t.Fatalf("ListKeys = %v, %v", keys, err)
	}
}

func TestWebAuthnRegistrationExcludesKnownKeys(t *testing.T) {
	t.Parallel()
	f := newWAFixture(t)
	key := newSoftKey(t, waOrigin)
	f.register(t, f.user.ID, key, "first")

	opts, state, err := f.wa.BeginRegistration(f.ctx, f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !key.excluded(opts) {
		t.Fatalf("options do not exclude the registered key: %s", opts)
	}
	// An authenticator that ignores the exclusion cannot register twice.
	_, err = f.wa.FinishRegistration(f.ctx, nil, f.user.ID, "again", state, key.create(opts))
	if !errors.Is(err, account.ErrKeyAlreadyRegistered) {
		t.Fatalf("duplicate credential: %v", err)
	}
}

func TestWebAuthnWrongOriginRefused(t *testing.T) {
	t.Parallel()
	f := newWAFixture(t)
	key := newSoftKey(t, "https://rd.example.test.evil.example")
	opts, state, err := f.wa.BeginRegistration(f.ctx, f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.wa.FinishRegistration(f.ctx, nil, f.user.ID, "phished", state, key.create(opts)); !errors.Is(err, account.ErrWebAuthnFailed) {
		t.Fatalf("registration from a foreign origin: %v", err)
	}

	key.origin = waOrigin
	cred := f.register(t, f.user.ID, key, "real")
	key.origin = "https://evil.example"
	if _, err := f.login(t, f.user.ID, key); !errors.Is(err, account.ErrWebAuthnFailed) {
		t.Fatalf("login from a foreign origin: %v", err)
	}
	got, err := f.ent.WebAuthnCredential.Get(f.ctx, cred.ID)
	if err != nil || got.SignCount != 0 || got.LastUsedAt != nil {
		t.Fatalf("a refused login changed the key: %+v, %v", got, err)
	}
}

func TestWebAuthnReplayedAssertionRefused(t *testing.T) {
	t.Parallel()
	f := newWAFixture(t)
	key := newSoftKey(t, waOrigin)
	f.register(t, f.user.ID, key, "counting key")

	opts, state, err := f.wa.BeginLogin(f.ctx, f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	answer := key.get(opts)
	if _, err := f.wa.FinishLogin(f.ctx, f.user.ID, state, answer); err != nil {
		t.Fatal(err)
	}
	// The same answer again: the counter did not advance.
	if _, err := f.wa.FinishLogin(f.ctx, f.user.ID, state, answer); !errors.Is(err, account.ErrKeyCloned) {
		t.Fatalf("replayed assertion: %v", err)
	}
	// A copy of the key whose counter is behind.
	key.counter = 0
	if _, err := f.login(t, f.user.ID, key); !errors.Is(err, account.ErrKeyCloned) {
		t.Fatalf("counter went backwards: %v", err)
	}
	// The original, ahead again, still works.
	key.counter = 10
	if used, err := f.login(t, f.user.ID, key); err != nil || used.SignCount != 11 {
		t.Fatalf("login after clone warning: %+v, %v", used, err)
	}
}

func TestWebAuthnChallengeOfAnotherCeremonyRefused(t *testing.T) {
	t.Parallel()
	f := newWAFixture(t)
	key := newSoftKey(t, waOrigin)
	f.register(t, f.user.ID, key, "key")

	optsA, _, err := f.wa.BeginLogin(f.ctx, f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, stateB, err := f.wa.BeginLogin(f.ctx, f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.wa.FinishLogin(f.ctx, f.user.ID, stateB, key.get(optsA)); !errors.Is(err, account.ErrWebAuthnFailed) {
		t.Fatalf("answer to ceremony A finished ceremony B: %v", err)
	}

	// A state only finishes the ceremony and user it was begun for.
	other := makeUser(t, f.ent)
	otherKey := newSoftKey(t, waOrigin)
	f.register(t, other.ID, otherKey, "key")
	opts, state, err := f.wa.BeginLogin(f.ctx, f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.wa.FinishLogin(f.ctx, other.ID, state, key.get(opts)); !errors.Is(err, account.ErrWebAuthnFailed) {
		t.Fatalf("state of user A finished a login of user B: %v", err)
	}
	if _, _, err := f.wa.FinishPasskeyLogin(f.ctx, state, key.get(opts)); !errors.Is(err, account.ErrWebAuthnFailed) {
		t.Fatalf("a second-factor state finished a passkey login: %v", err)
	}
	if _, err := f.wa.FinishLogin(f.ctx, f.user.ID, []byte("{not json"), key.get(opts)); !errors.Is(err, account.ErrWebAuthnFailed) {
		t.Fatalf("malformed state: %v", err)
	}
}

func TestWebAuthnExpiredStateRefused(t *testing.T) {
	t.Parallel()
	f := newWAFixture(t)
	key := newSoftKey(t, waOrigin)

	opts, state, err := f.wa.BeginRegistration(f.ctx, f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	answer := key.create(opts)
	f.clk.t = f.clk.t.Add(account.WebAuthnCeremonyTimeout)
	if _, err := f.wa.FinishRegistration(f.ctx, nil, f.user.ID, "slow", state, answer); !errors.Is(err, account.ErrCeremonyExpired) {
		t.Fatalf("expired registration: %v", err)
	}
	f.clk.t = f.clk.t.Add(-time.Second)
	if _, err := f.wa.FinishRegistration(f.ctx, nil, f.user.ID, "just in time", state, answer); err != nil {
		t.Fatalf("registration within the timeout: %v", err)
	}

	opts, state, err = f.wa.BeginLogin(f.ctx, f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	answer = key.get(opts)
	f.clk.t = f.clk.t.Add(account.WebAuthnCeremonyTimeout + time.Second)
	if _, err := f.wa.FinishLogin(f.ctx, f.user.ID, state, answer); !errors.Is(err, account.ErrCeremonyExpired) {
		t.Fatalf("expired login: %v", err)
	}

	opts, state, err = f.wa.BeginPasskeyLogin(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.clk.t = f.clk.t.Add(time.Hour)
	if _, _, err := f.wa.FinishPasskeyLogin(f.ctx, state, opts); !errors.Is(err, account.ErrCeremonyExpired) {
		t.Fatalf("expired passkey login: %v", err)
	}
}

func TestWebAuthnPasskeySignIn(t *testing.T) {
	t.Parallel()
	f := newWAFixture(t)
	pk := newPasskey(t, waOrigin)

	opts, _, err := f.wa.BeginRegistration(f.ctx, f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	sel := parseWAOptions[waCreationOptions](t, opts).PublicKey.AuthenticatorSelection
	if sel.ResidentKey != "preferred" || sel.UserVerification != "preferred" {
		t.Fatalf("authenticator selection %+v", sel)
	}
	cred := f.register(t, f.user.ID, pk, "Phone passkey")
	if !cred.Discoverable || !cred.BackupEligible || !cred.BackupState {
		t.Fatalf("passkey flags: %+v", cred)
	}

	for i := range 2 { // counter stays 0: no clone warning for 0 → 0
		opts, state, err := f.wa.BeginPasskeyLogin(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		req := parseWAOptions[waRequestOptions](t, opts).PublicKey
		if len(req.AllowCredentials) != 0 || req.UserVerification != "required" {
			t.Fatalf("passkey options %s", opts)
		}
		userID, used, err := f.wa.FinishPasskeyLogin(f.ctx, state, pk.get(opts))
		if err != nil {
			t.Fatalf("passkey sign-in %d: %v", i, err)
		}
		if userID != f.user.ID || used.ID != cred.ID || used.LastUsedAt == nil {
			t.Fatalf("passkey sign-in %d: user %d, key %+v", i, userID, used)
		}
	}

	// A user handle that is not the key owner's is refused.
	opts, state, err := f.wa.BeginPasskeyLogin(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	real := pk.userHandle
	pk.userHandle = bytes.Repeat([]byte{7}, 32)
	if _, _, err := f.wa.FinishPasskeyLogin(f.ctx, state, pk.get(opts)); !errors.Is(err, account.ErrWebAuthnFailed) {
		t.Fatalf("foreign user handle: %v", err)
	}
	pk.userHandle = real

	// A passkey removed from the account (still on the device) is unknown.
	if err := f.ent.WebAuthnCredential.DeleteOneID(cred.ID).Exec(f.ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.wa.FinishPasskeyLogin(f.ctx, state, pk.get(opts)); !errors.Is(err, account.ErrKeyNotFound) {
		t.Fatalf("removed passkey: %v", err)
	}
}

func TestWebAuthnSecurityKeyUsedAsPasskeyBecomesDiscoverable(t *testing.T) {
	t.Parallel()
	f := newWAFixture(t)
	key := newSoftKey(t, waOrigin)
	key.resident = true
	opts, state, err := f.wa.BeginRegistration(f.ctx, f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A browser that does not report credProps.
	answer := bytes.Replace(key.create(opts), []byte(`"credProps":{"rk":true}`), nil, 1)
	cred, err := f.wa.FinishRegistration(f.ctx, nil, f.user.ID, "no credProps", state, answer)
	if err != nil {
		t.Fatal(err)
	}
	if cred.Discoverable {
		t.Fatal("a key without credProps or backup flags was taken for a passkey")
	}
	opts, state, err = f.wa.BeginPasskeyLogin(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, used, err := f.wa.FinishPasskeyLogin(f.ctx, state, key.get(opts))
	if err != nil || !used.Discoverable || used.SignCount != 1 {
		t.Fatalf("passkey sign-in with a resident key: %+v, %v", used, err)
	}
}

func TestWebAuthnKeyNames(t *testing.T) {
	t.Parallel()
	f := newWAFixture(t)
	first := f.register(t, f.user.ID, newSoftKey(t, waOrigin), "YubiKey")

	for _, name := range []string{"yubikey", " YUBIKEY "} {
		opts, state, err := f.wa.BeginRegistration(f.ctx, f.user.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.wa.FinishRegistration(f.ctx, nil, f.user.ID, name, state, newSoftKey(t, waOrigin).create(opts)); !errors.Is(err, account.ErrKeyNameTaken) {
			t.Fatalf("name %q: %v", name, err)
		}
	}
	for _, name := range []string{"", "   ", strings.Repeat("k", 65), strings.Repeat("é", 51), "tab\tname", "bad\xffutf8"} {
		opts, state, err := f.wa.BeginRegistration(f.ctx, f.user.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.wa.FinishRegistration(f.ctx, nil, f.user.ID, name, state, newSoftKey(t, waOrigin).create(opts)); !errors.Is(err, account.ErrKeyNameInvalid) {
			t.Fatalf("name %q: %v", name, err)
		}
	}
	f.register(t, f.user.ID, newSoftKey(t, waOrigin), strings.Repeat("k", 64))
	f.register(t, f.user.ID, newSoftKey(t, waOrigin), strings.Repeat("é", 50))
	second := f.register(t, f.user.ID, newSoftKey(t, waOrigin), "Backup key")
	// Another user may use the same name.
	other := makeUser(t, f.ent)
	otherKey := f.register(t, other.ID, newSoftKey(t, waOrigin), "YubiKey")

	if _, err := f.wa.RenameKey(f.ctx, nil, f.user.ID, second.ID, "yubiKEY"); !errors.Is(err, account.ErrKeyNameTaken) {
		t.Fatalf("rename to a taken name: %v", err)
	}
	if renamed, err := f.wa.RenameKey(f.ctx, nil, f.user.ID, first.ID, "YUBIKEY"); err != nil || renamed.Name != "YUBIKEY" {
		t.Fatalf("re-case own name: %+v, %v", renamed, err)
	}
	if _, err := f.wa.RenameKey(f.ctx, nil, f.user.ID, otherKey.ID, "mine now"); !errors.Is(err, account.ErrKeyNotFound) {
		t.Fatalf("rename another user's key: %v", err)
	}
	if _, err := f.wa.RenameKey(f.ctx, nil, f.user.ID, second.ID, ""); !errors.Is(err, account.ErrKeyNameInvalid) {
		t.Fatalf("rename to empty: %v", err)
	}
}

func TestWebAuthnRemoveKeyKeepsLastFactor(t *testing.T) {
	t.Parallel()
	f := newWAFixture(t)
	a := f.register(t, f.user.ID, newSoftKey(t, waOrigin), "A")

	if err := f.wa.RemoveKey(f.ctx, nil, f.user.ID, a.ID); !errors.Is(err, account.ErrLastSecondFactor) {
		t.Fatalf("remove the only key: %v", err)
	}
	b := f.register(t, f.user.ID, newSoftKey(t, waOrigin), "B")
	if err := f.wa.RemoveKey(f.ctx, nil, f.user.ID, a.ID); err != nil {
		t.Fatalf("remove one of two keys: %v", err)
	}
	if err := f.wa.RemoveKey(f.ctx, nil, f.user.ID, a.ID); !errors.Is(err, account.ErrKeyNotFound) {
		t.Fatalf("remove a removed key: %v", err)
	}
	if err := f.wa.RemoveKey(f.ctx, nil, f.user.ID, b.ID); !errors.Is(err, account.ErrLastSecondFactor) {
		t.Fatalf("remove the last key: %v", err)
	}

	// An unconfirmed authenticator app does not count; a confirmed one does.
	totp, err := f.ent.TOTPCredential.Create().SetUserID(f.user.ID).SetSecret([]byte("12345678901234567890")).Save(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.wa.RemoveKey(f.ctx, nil, f.user.ID, b.ID); !errors.Is(err, account.ErrLastSecondFactor) {
		t.Fatalf("remove the last key next to an unconfirmed TOTP: %v", err)
	}
	if err := totp.Update().SetConfirmedAt(f.clk.t).Exec(f.ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.wa.RemoveKey(f.ctx, nil, f.user.ID, b.ID); err != nil {
		t.Fatalf("remove the last key next to a confirmed TOTP: %v", err)
	}
	if keys, err := f.wa.ListKeys(f.ctx, f.user.ID); err != nil || len(keys) != 0 {
		t.Fatalf("keys left: %v, %v", keys, err)
	}
	if _, _, err := f.wa.BeginLogin(f.ctx, f.user.ID); !errors.Is(err, account.ErrKeyNotFound) {
		t.Fatalf("BeginLogin without keys: %v", err)
	}

	// Someone else's key is not found, whatever their factors.
	other := makeUser(t, f.ent)
	o1 := f.register(t, other.ID, newSoftKey(t, waOrigin), "1")
	f.register(t, other.ID, newSoftKey(t, waOrigin), "2")
	if err := f.wa.RemoveKey(f.ctx, nil, f.user.ID, o1.ID); !errors.Is(err, account.ErrKeyNotFound) {
		t.Fatalf("remove another user's key: %v", err)
	}
}

func TestWebAuthnConfigFromBaseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ base, rpID, origin string }{
		{"https://pkg.example.org", "pkg.example.org", "https://pkg.example.org"},
		{"https://PKG.example.org:443/desk/", "pkg.example.org", "https://pkg.example.org"},
		{"https://pkg.example.org:8443", "pkg.example.org", "https://pkg.example.org:8443"},
		{"http://localhost:8080", "localhost", "http://localhost:8080"},
		{"http://127.0.0.1:8080", "localhost", "http://localhost:8080"},
		{"http://[::1]:8080", "localhost", "http://localhost:8080"},
	} {
		base, err := url.Parse(tc.base)
		if err != nil {
			t.Fatal(err)
		}
		cfg := account.WebAuthnConfigFromBaseURL("Desk", base)
		if cfg.RPID != tc.rpID || len(cfg.Origins) != 1 || cfg.Origins[0] != tc.origin || cfg.RPName != "Desk" {
			t.Errorf("%s: got %+v, want %s %s", tc.base, cfg, tc.rpID, tc.origin)
		}
		if _, err := account.NewWebAuthn(nil, cfg, nil); err != nil {
			t.Errorf("%s: %v", tc.base, err)
		}
	}
	if _, err := account.NewWebAuthn(nil, account.WebAuthnConfig{RPID: "192.0.2.1", RPName: "x", Origins: []string{"https://192.0.2.1"}}, nil); err == nil {
		t.Error("an IP address was accepted as RP ID")
	}
}
