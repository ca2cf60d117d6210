package seed

import (
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/recoverydesk/recoverydesk/account"
)

// derive returns 32 bytes fixed by label. Every "secret" of the demo set
// comes from here, so it is the same on every run and every machine — and
// therefore no secret at all: demo data only.
func derive(label string) [32]byte {
	return sha256.Sum256([]byte("recoverydesk demo seed v1\x00" + label))
}

// totpSecret is username's authenticator secret: 20 bytes (RFC 4226's
// recommended 160 bits), base32 without padding as authenticator apps take it.
func totpSecret(username string) string {
	b := derive("totp " + username)
	return base32.StdEncoding.EncodeToString(b[:20])
}

// recoveryAlphabet is account.NewRecoveryCodes' alphabet, so demo codes
// look and normalise exactly like real ones.
const recoveryAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"

// recoveryCodes are username's batch of account.RecoveryCodeCount codes,
// shaped "xxxx-xxxx-xxxx-xxxx" like account.NewRecoveryCodes makes them.
func recoveryCodes(username string) []string {
	codes := make([]string, account.RecoveryCodeCount)
	for i := range codes {
		b := derive(fmt.Sprintf("recovery code %s %d", username, i))
		var sb strings.Builder
		for j, c := range b[:16] {
			if j > 0 && j%4 == 0 {
				sb.WriteByte('-')
			}
			sb.WriteByte(recoveryAlphabet[int(c)%len(recoveryAlphabet)])
		}
		codes[i] = sb.String()
	}
	return codes
}

// securityKey is a placeholder WebAuthn credential: a random-looking
// credential ID and a well-formed COSE_Key (EC2, ES256, P-256) for a point
// that really is on the curve. No authenticator holds the private key, so
// the credential shows up in lists but cannot sign in.
func securityKey(label string) (credentialID, publicKey []byte, err error) {
	seed := derive("webauthn key " + label)
	priv, err := ecdh.P256().NewPrivateKey(seed[:])
	if err != nil {
		return nil, nil, fmt.Errorf("seed: security key %q: %w", label, err)
	}
	pub := priv.PublicKey().Bytes() // 0x04 || X (32 bytes) || Y (32 bytes)
	// CBOR map of 5: kty(1)=EC2(2), alg(3)=ES256(-7), crv(-1)=P-256(1),
	// x(-2)=bstr(32), y(-3)=bstr(32).
	cose := []byte{0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20}
	cose = append(cose, pub[1:33]...)
	cose = append(cose, 0x22, 0x58, 0x20)
	cose = append(cose, pub[33:65]...)
	id := derive("webauthn credential id " + label)
	return id[:], cose, nil
}

// fileSHA256 is a release file's fake digest: the hash of its name, since
// the demo stores no file bytes.
func fileSHA256(filename string) string {
	h := sha256.Sum256([]byte(filename))
	return hex.EncodeToString(h[:])
}

// apiToken is username's fake upload token and its stored hash; the prefix
// is the token's public start, as token lists show it.
func apiToken(username string) (prefix string, hash []byte) {
	b := derive("api token " + username)
	token := "rdt_" + hex.EncodeToString(b[:])
	h := sha256.Sum256([]byte(token))
	return token[:len("rdt_")+8], h[:]
}

// statusTokenHash is the stored hash of a demo case's status-link secret.
func statusTokenHash(reference string) []byte {
	b := derive("status token " + reference)
	h := sha256.Sum256([]byte(hex.EncodeToString(b[:])))
	return h[:]
}
