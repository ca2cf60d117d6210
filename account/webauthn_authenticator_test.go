package account_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
)

// softKey is a software authenticator together with the browser around
// it: it answers the options JSON our Begin functions produce with the
// PublicKeyCredential JSON a browser posts, signing with a P-256 key.
type softKey struct {
	t      *testing.T
	origin string // what the "browser" writes into clientDataJSON

	credID     []byte
	priv       *ecdsa.PrivateKey
	aaguid     [16]byte
	userHandle []byte // kept from create, returned by resident keys

	resident       bool // discoverable credential (passkey)
	backupEligible bool // BE/BS: a synced passkey
	counting       bool // signCount advances on each use (hardware keys); else stays 0
	counter        uint32
}

// newSoftKey returns a hardware-style key: not resident, counting.
func newSoftKey(t *testing.T, origin string) *softKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k := &softKey{t: t, origin: origin, credID: make([]byte, 32), priv: priv, counting: true}
	if _, err := rand.Read(k.credID); err != nil {
		t.Fatal(err)
	}
	copy(k.aaguid[:], "rd-test-aaguid!!")
	return k
}

// newPasskey returns a synced-passkey-style key: resident, backed up,
// counter always 0.
func newPasskey(t *testing.T, origin string) *softKey {
	k := newSoftKey(t, origin)
	k.resident, k.backupEligible, k.counting = true, true, false
	return k
}

var waB64 = base64.RawURLEncoding

func (k *softKey) b64decode(s string) []byte {
	k.t.Helper()
	b, err := waB64.DecodeString(s)
	if err != nil {
		k.t.Fatalf("softKey: base64url %q: %v", s, err)
	}
	return b
}

// waCreationOptions is the part of CredentialCreationOptions a key reads.
type waCreationOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"user"`
		ExcludeCredentials []struct {
			ID string `json:"id"`
		} `json:"excludeCredentials"`
		AuthenticatorSelection struct {
			ResidentKey      string `json:"residentKey"`
			UserVerification string `json:"userVerification"`
		} `json:"authenticatorSelection"`
	} `json:"publicKey"`
}

// waRequestOptions is the part of CredentialRequestOptions a key reads.
type waRequestOptions struct {
	PublicKey struct {
		Challenge        string `json:"challenge"`
		RPID             string `json:"rpId"`
		UserVerification string `json:"userVerification"`
		AllowCredentials []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	} `json:"publicKey"`
}

func parseWAOptions[T any](t *testing.T, raw []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("options %s: %v", raw, err)
	}
	return v
}

// excluded reports whether creation options exclude this key.
func (k *softKey) excluded(options []byte) bool {
	opts := parseWAOptions[waCreationOptions](k.t, options)
	for _, c := range opts.PublicKey.ExcludeCredentials {
		if bytes.Equal(k.b64decode(c.ID), k.credID) {
			return true
		}
	}
	return false
}

// flags: the user touched the key and gave its PIN (UP|UV), plus AT when
// a credential is attested and BE|BS for a synced passkey.
func (k *softKey) flags(attested bool) byte {
	f := protocol.FlagUserPresent | protocol.FlagUserVerified
	if attested {
		f |= protocol.FlagAttestedCredentialData
	}
	if k.backupEligible {
		f |= protocol.FlagBackupEligible | protocol.FlagBackupState
	}
	return byte(f)
}

func (k *softKey) authData(rpID string, attested bool) []byte {
	rpHash := sha256.Sum256([]byte(rpID))
	buf := append([]byte{}, rpHash[:]...)
	buf = append(buf, k.flags(attested))
	buf = binary.BigEndian.AppendUint32(buf, k.counter)
	if attested {
		buf = append(buf, k.aaguid[:]...)
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(k.credID)))
		buf = append(buf, k.credID...)
		point, err := k.priv.PublicKey.Bytes() // 0x04 || X || Y
		if err != nil {
			k.t.Fatal(err)
		}
		cose, err := webauthncbor.Marshal(webauthncose.EC2PublicKeyData{
			PublicKeyData: webauthncose.PublicKeyData{
				KeyType:   int64(webauthncose.EllipticKey),
				Algorithm: int64(webauthncose.AlgES256),
			},
			Curve:  int64(webauthncose.P256),
			XCoord: point[1:33],
			YCoord: point[33:65],
		})
		if err != nil {
			k.t.Fatal(err)
		}
		buf = append(buf, cose...)
	}
	return buf
}

func (k *softKey) clientData(kind, challenge string) []byte {
	cd, err := json.Marshal(map[string]any{"type": kind, "challenge": challenge, "origin": k.origin, "crossOrigin": false})
	if err != nil {
		k.t.Fatal(err)
	}
	return cd
}

// create answers navigator.credentials.create(options) with "none"
// attestation, as browsers do when the site asks for none.
func (k *softKey) create(options []byte) []byte {
	k.t.Helper()
	opts := parseWAOptions[waCreationOptions](k.t, options).PublicKey
	k.userHandle = k.b64decode(opts.User.ID)
	attObj, err := webauthncbor.Marshal(map[string]any{
		"fmt":      "none",
		"attStmt":  map[string]any{},
		"authData": k.authData(opts.RP.ID, true),
	})
	if err != nil {
		k.t.Fatal(err)
	}
	resp, err := json.Marshal(map[string]any{
		"id":                      waB64.EncodeToString(k.credID),
		"rawId":                   waB64.EncodeToString(k.credID),
		"type":                    "public-key",
		"authenticatorAttachment": "cross-platform",
		"response": map[string]any{
			"clientDataJSON":    waB64.EncodeToString(k.clientData("webauthn.create", opts.Challenge)),
			"attestationObject": waB64.EncodeToString(attObj),
			"transports":        []string{"usb", "nfc"},
		},
		"clientExtensionResults": map[string]any{"credProps": map[string]any{"rk": k.resident}},
	})
	if err != nil {
		k.t.Fatal(err)
	}
	return resp
}

// get answers navigator.credentials.get(options); it fails the test when
// the options do not allow this key.
func (k *softKey) get(options []byte) []byte {
	k.t.Helper()
	opts := parseWAOptions[waRequestOptions](k.t, options).PublicKey
	if len(opts.AllowCredentials) == 0 && !k.resident {
		k.t.Fatal("softKey: a non-resident key cannot answer a discoverable request")
	}
	if len(opts.AllowCredentials) > 0 {
		allowed := false
		for _, c := range opts.AllowCredentials {
			allowed = allowed || bytes.Equal(k.b64decode(c.ID), k.credID)
		}
		if !allowed {
			k.t.Fatal("softKey: options do not allow this key")
		}
	}
	if k.counting {
		k.counter++
	}
	authData := k.authData(opts.RPID, false)
	clientData := k.clientData("webauthn.get", opts.Challenge)
	cdHash := sha256.Sum256(clientData)
	digest := sha256.Sum256(append(append([]byte{}, authData...), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
	if err != nil {
		k.t.Fatal(err)
	}
	response := map[string]any{
		"clientDataJSON":    waB64.EncodeToString(clientData),
		"authenticatorData": waB64.EncodeToString(authData),
		"signature":         waB64.EncodeToString(sig),
	}
	if k.resident {
		response["userHandle"] = waB64.EncodeToString(k.userHandle)
	}
	resp, err := json.Marshal(map[string]any{
		"id":                     waB64.EncodeToString(k.credID),
		"rawId":                  waB64.EncodeToString(k.credID),
		"type":                   "public-key",
		"response":               response,
		"clientExtensionResults": map[string]any{},
	})
	if err != nil {
		k.t.Fatal(err)
	}
	return resp
}
