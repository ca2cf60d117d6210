package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/webauthncredential"
)

// WebAuthnCeremonyTimeout is how long a begun registration or login may
// take before its state is refused: long enough to find a key in a bag,
// short enough that a leaked challenge is soon worthless.
const WebAuthnCeremonyTimeout = 5 * time.Minute

// Errors of security keys and passkeys; the web layer maps each to a message.
var (
	// ErrKeyNameTaken: the user already has a key with this name (compared
	// case-insensitively).
	ErrKeyNameTaken = errors.New("account: you already have a security key with this name")
	// ErrKeyNameInvalid: the name is empty, longer than 64 characters (or
	// 100 bytes), or holds control characters.
	ErrKeyNameInvalid = errors.New("account: a key name must be 1 to 64 characters, without tabs or line breaks")
	// ErrWebAuthnFailed: the browser's answer did not verify (wrong origin,
	// challenge, signature, user…); the wrapped error says why, for logs.
	ErrWebAuthnFailed = errors.New("account: the security key could not be verified")
	// ErrCeremonyExpired: the begin/finish pair took longer than
	// WebAuthnCeremonyTimeout; start again.
	ErrCeremonyExpired = errors.New("account: the security key request expired; please try again")
	// ErrKeyCloned: the key's signature counter did not advance, so another
	// copy of the key may exist (or the answer was replayed).
	ErrKeyCloned = errors.New("account: this security key's signature counter did not advance; it may have been copied")
	// ErrKeyNotFound: no such key on this account (or, at passkey sign-in,
	// on any account: the passkey was removed here but not from the device).
	ErrKeyNotFound = errors.New("account: security key not found")
	// ErrKeyAlreadyRegistered: this very credential is registered already.
	ErrKeyAlreadyRegistered = errors.New("account: this security key is already registered")
)

// WebAuthnConfig names the relying party: the site's domain (RPID), the
// name shown by the browser, and the origins pages are served from.
type WebAuthnConfig struct {
	RPID    string
	RPName  string
	Origins []string
}

// WebAuthnConfigFromBaseURL derives the relying party from the public URL:
// RPID is its host name, the origin scheme://host[:port] (default ports
// dropped, as browsers write origins).
//
// Browsers refuse IP addresses as RP IDs, so a loopback address (the dev
// default http://127.0.0.1:8080) becomes "localhost": WebAuthn then works
// when the site is opened as http://localhost:PORT, and only there.
func WebAuthnConfigFromBaseURL(siteName string, base *url.URL) WebAuthnConfig {
	scheme := strings.ToLower(base.Scheme)
	host := strings.ToLower(base.Hostname())
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		host = "localhost"
	}
	port := base.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	origin := scheme + "://" + host
	if port != "" {
		origin = scheme + "://" + net.JoinHostPort(host, port)
	}
	return WebAuthnConfig{RPID: host, RPName: siteName, Origins: []string{origin}}
}

// WebAuthn runs the registration and login ceremonies of security keys
// and passkeys. State between a Begin and its Finish is handed to the
// caller as opaque bytes: keep them server-side (the session row) or in a
// signed cookie, and use them once — the domain cannot tell a replayed
// state from a fresh one, only an expired one.
type WebAuthn struct {
	client *ent.Client
	wa     *webauthn.WebAuthn
	now    func() time.Time
}

// NewWebAuthn returns the WebAuthn service; now may be nil (time.Now).
func NewWebAuthn(client *ent.Client, cfg WebAuthnConfig, now func() time.Time) (*WebAuthn, error) {
	if now == nil {
		now = time.Now
	}
	if ip := net.ParseIP(cfg.RPID); ip != nil {
		return nil, fmt.Errorf("account: webauthn: RP ID %q is an IP address, which browsers refuse; serve the site under a host name", cfg.RPID)
	}
	timeout := webauthn.TimeoutConfig{Timeout: WebAuthnCeremonyTimeout, TimeoutUVD: WebAuthnCeremonyTimeout}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          cfg.RPID,
		RPDisplayName: cfg.RPName,
		RPOrigins:     cfg.Origins,
		// The site needs no proof of the key's make: "none" spares users
		// the browser's extra consent prompt.
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementPreferred,
			RequireResidentKey: protocol.ResidentKeyNotRequired(),
			UserVerification:   protocol.VerificationPreferred,
		},
		// Expiry is checked here against the injected clock (openState),
		// not by the library against the wall clock.
		Timeouts: webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
	if err != nil {
		return nil, fmt.Errorf("account: webauthn config: %w", err)
	}
	return &WebAuthn{client: client, wa: wa, now: now}, nil
}

// ceremony names what a state was begun for, so a state cannot finish a
// different ceremony than it started.
type ceremony string

const (
	ceremonyRegister ceremony = "register"
	ceremonyLogin    ceremony = "login"
	ceremonyPasskey  ceremony = "passkey"
)

// ceremonyState is what the caller keeps between Begin and Finish.
type ceremonyState struct {
	Ceremony ceremony             `json:"ceremony"`
	UserID   int                  `json:"user_id,omitempty"`
	Session  webauthn.SessionData `json:"session"`
}

// sealState stamps the expiry and encodes options and state for the caller.
func (w *WebAuthn) sealState(kind ceremony, userID int, options any, session *webauthn.SessionData) ([]byte, []byte, error) {
	session.Expires = w.now().Add(WebAuthnCeremonyTimeout)
	state, err := json.Marshal(ceremonyState{Ceremony: kind, UserID: userID, Session: *session})
	if err != nil {
		return nil, nil, fmt.Errorf("account: encode webauthn %s state: %w", kind, err)
	}
	opts, err := json.Marshal(options)
	if err != nil {
		return nil, nil, fmt.Errorf("account: encode webauthn %s options: %w", kind, err)
	}
	return opts, state, nil
}

// openState decodes a state and checks it belongs to this ceremony and
// user and has not expired.
func (w *WebAuthn) openState(raw []byte, kind ceremony, userID int) (webauthn.SessionData, error) {
	var st ceremonyState
	if err := json.Unmarshal(raw, &st); err != nil {
		return webauthn.SessionData{}, fmt.Errorf("%w: malformed %s state: %w", ErrWebAuthnFailed, kind, err)
	}
	if st.Ceremony != kind || st.UserID != userID {
		return webauthn.SessionData{}, fmt.Errorf("%w: state of a %s ceremony for user %d used to finish a %s for user %d",
			ErrWebAuthnFailed, st.Ceremony, st.UserID, kind, userID)
	}
	if st.Session.Expires.IsZero() || !w.now().Before(st.Session.Expires) {
		return webauthn.SessionData{}, ErrCeremonyExpired
	}
	// Checked above with our clock; the library would use the wall clock.
	st.Session.Expires = time.Time{}
	return st.Session, nil
}

// verifyFailed wraps a library error as ErrWebAuthnFailed, keeping the
// library's debug detail (which its Error() omits) for the logs.
func verifyFailed(step string, err error) error {
	var perr *protocol.Error
	if errors.As(err, &perr) && perr.DevInfo != "" {
		return fmt.Errorf("%w: %s: %w (%s)", ErrWebAuthnFailed, step, err, perr.DevInfo)
	}
	return fmt.Errorf("%w: %s: %w", ErrWebAuthnFailed, step, err)
}

// BeginRegistration starts adding a key to userID's account. options is
// the JSON of CredentialCreationOptions ({"publicKey": …}) for
// navigator.credentials.create; state goes back to FinishRegistration.
// The user's keys are excluded (one authenticator, one registration), and
// a resident key is preferred so that a capable key becomes a passkey.
func (w *WebAuthn) BeginRegistration(ctx context.Context, userID int) (options, state []byte, err error) {
	u, err := loadWebAuthnUser(ctx, w.client, userID)
	if err != nil {
		return nil, nil, err
	}
	creation, session, err := w.wa.BeginRegistration(u,
		webauthn.WithExclusions(webauthn.Credentials(u.WebAuthnCredentials()).CredentialDescriptors()),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementPreferred),
		// credProps tells whether the key made a discoverable credential.
		webauthn.WithExtensions(webauthn.WithExtensionCredProps()),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("account: begin webauthn registration for user %d: %w", userID, err)
	}
	return w.sealState(ceremonyRegister, userID, creation, session)
}

// FinishRegistration verifies the browser's answer (the JSON of the
// PublicKeyCredential) to BeginRegistration and stores the key under
// name. client may be a transaction's client (nil: the service's), so the
// key and its security event commit together.
func (w *WebAuthn) FinishRegistration(ctx context.Context, client *ent.Client, userID int, name string, state, response []byte) (*ent.WebAuthnCredential, error) {
	if client == nil {
		client = w.client
	}
	name, err := cleanKeyName(name)
	if err != nil {
		return nil, err
	}
	session, err := w.openState(state, ceremonyRegister, userID)
	if err != nil {
		return nil, err
	}
	if err := lockUserForKeys(ctx, client, userID); err != nil {
		return nil, err
	}
	if err := checkKeyNameFree(ctx, client, userID, name, 0); err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, verifyFailed("parse registration", err)
	}
	u, err := loadWebAuthnUser(ctx, client, userID)
	if err != nil {
		return nil, err
	}
	cred, err := w.wa.CreateCredential(u, session, parsed)
	if err != nil {
		return nil, verifyFailed("verify registration", err)
	}
	// credProps.rk is the browser's word; without it, a backup-eligible
	// credential is a synced passkey, and those are always discoverable.
	discoverable := cred.Flags.BackupEligible
	if cred.Extensions.RK != nil {
		discoverable = *cred.Extensions.RK
	}
	transports := make([]string, 0, len(cred.Transport))
	for _, t := range cred.Transport {
		transports = append(transports, string(t))
	}
	key, err := client.WebAuthnCredential.Create().
		SetUserID(userID).
		SetName(name).
		SetCredentialID(cred.ID).
		SetPublicKey(cred.PublicKey).
		SetAttestationType(cred.AttestationType).
		SetAaguid(cred.Authenticator.AAGUID).
		SetSignCount(cred.Authenticator.SignCount).
		SetTransports(transports).
		SetBackupEligible(cred.Flags.BackupEligible).
		SetBackupState(cred.Flags.BackupState).
		SetDiscoverable(discoverable).
		SetCreatedAt(w.now()).
		Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, fmt.Errorf("account: register key for user %d: %w", userID, ErrKeyAlreadyRegistered)
	}
	if err != nil {
		return nil, fmt.Errorf("account: store key of user %d: %w", userID, err)
	}
	return key, nil
}

// BeginLogin starts the second-factor step for userID, who passed the
// password: the browser may use any of the user's keys.
func (w *WebAuthn) BeginLogin(ctx context.Context, userID int) (options, state []byte, err error) {
	u, err := loadWebAuthnUser(ctx, w.client, userID)
	if err != nil {
		return nil, nil, err
	}
	if len(u.keys) == 0 {
		return nil, nil, fmt.Errorf("account: webauthn login for user %d without keys: %w", userID, ErrKeyNotFound)
	}
	assertion, session, err := w.wa.BeginLogin(u)
	if err != nil {
		return nil, nil, fmt.Errorf("account: begin webauthn login for user %d: %w", userID, err)
	}
	return w.sealState(ceremonyLogin, userID, assertion, session)
}

// FinishLogin verifies the browser's answer to BeginLogin and records the
// key's use. It returns the key used.
func (w *WebAuthn) FinishLogin(ctx context.Context, userID int, state, response []byte) (*ent.WebAuthnCredential, error) {
	session, err := w.openState(state, ceremonyLogin, userID)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, verifyFailed("parse assertion", err)
	}
	u, err := loadWebAuthnUser(ctx, w.client, userID)
	if err != nil {
		return nil, err
	}
	cred, err := w.wa.ValidateLogin(u, session, parsed)
	if err != nil {
		return nil, verifyFailed("verify assertion", err)
	}
	return w.recordUse(ctx, u.key(cred.ID), cred, false)
}

// BeginPasskeyLogin starts a sign-in without a username: the browser
// offers the passkeys it holds for this site. User verification (PIN,
// biometric) is required, as the passkey stands in for password and 2FA.
func (w *WebAuthn) BeginPasskeyLogin(ctx context.Context) (options, state []byte, err error) {
	assertion, session, err := w.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, nil, fmt.Errorf("account: begin passkey login: %w", err)
	}
	return w.sealState(ceremonyPasskey, 0, assertion, session)
}

// FinishPasskeyLogin verifies the answer to BeginPasskeyLogin and returns
// whose passkey it was. The credential ID finds the key (and so the user);
// the library then checks the user handle the authenticator returned is
// that user's. The caller still checks the account may sign in (status).
func (w *WebAuthn) FinishPasskeyLogin(ctx context.Context, state, response []byte) (userID int, cred *ent.WebAuthnCredential, err error) {
	session, err := w.openState(state, ceremonyPasskey, 0)
	if err != nil {
		return 0, nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return 0, nil, verifyFailed("parse passkey assertion", err)
	}
	var owner *webAuthnUser
	var lookupErr error
	handler := func(rawID, _ []byte) (webauthn.User, error) {
		owner, lookupErr = loadKeyOwner(ctx, w.client, rawID)
		return owner, lookupErr
	}
	_, verified, err := w.wa.ValidatePasskeyLogin(handler, session, parsed)
	if lookupErr != nil {
		// Not a verification failure: an unknown key or a database error.
		return 0, nil, lookupErr
	}
	if err != nil {
		return 0, nil, verifyFailed("verify passkey assertion", err)
	}
	key, err := w.recordUse(ctx, owner.key(verified.ID), verified, true)
	if err != nil {
		return 0, nil, err
	}
	return owner.user.ID, key, nil
}

// recordUse stores what a verified assertion says about the key: the new
// counter, backup state and time of use. A counter that did not advance
// (the library's clone warning, or a concurrent use that advanced it
// first) refuses the login. A passkey sign-in proves the key discoverable.
func (w *WebAuthn) recordUse(ctx context.Context, key *ent.WebAuthnCredential, cred *webauthn.Credential, passkey bool) (*ent.WebAuthnCredential, error) {
	if key == nil {
		return nil, fmt.Errorf("account: verified credential is not among the user's keys: %w", ErrKeyNotFound)
	}
	if cred.Authenticator.CloneWarning {
		return nil, fmt.Errorf("account: key %d counter %d after %d: %w", key.ID, cred.Authenticator.SignCount, key.SignCount, ErrKeyCloned)
	}
	upd := w.client.WebAuthnCredential.UpdateOneID(key.ID).
		SetSignCount(cred.Authenticator.SignCount).
		SetBackupState(cred.Flags.BackupState).
		SetLastUsedAt(w.now())
	if cred.Authenticator.SignCount > 0 {
		upd.Where(webauthncredential.SignCountLT(cred.Authenticator.SignCount))
	}
	if passkey {
		upd.SetDiscoverable(true)
	}
	updated, err := upd.Save(ctx)
	if ent.IsNotFound(err) {
		exists, xerr := w.client.WebAuthnCredential.Query().Where(webauthncredential.ID(key.ID)).Exist(ctx)
		if xerr != nil {
			return nil, fmt.Errorf("account: record use of key %d: %w", key.ID, xerr)
		}
		if !exists { // removed while the ceremony ran
			return nil, fmt.Errorf("account: record use of key %d: %w", key.ID, ErrKeyNotFound)
		}
		return nil, fmt.Errorf("account: key %d counter %d already used: %w", key.ID, cred.Authenticator.SignCount, ErrKeyCloned)
	}
	if err != nil {
		return nil, fmt.Errorf("account: record use of key %d: %w", key.ID, err)
	}
	return updated, nil
}
