package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
)

// signer makes and checks HMAC-SHA256 tags for one purpose. Each purpose
// gets its own key derived from SECRET_KEY, so a tag made for a flash
// cookie can never pass as a CSRF token (or as anything else the program
// signs with the same secret).
type signer struct {
	key []byte
}

func newSigner(secret []byte, purpose string) signer {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("recoverydesk/web/" + purpose))
	return signer{key: m.Sum(nil)}
}

// tag returns the base64url tag of the parts. Each part is length-prefixed
// so ("ab", "c") and ("a", "bc") sign differently.
func (s signer) tag(parts ...string) string {
	m := hmac.New(sha256.New, s.key)
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		m.Write(n[:])
		m.Write([]byte(p))
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// valid reports, in constant time, whether tag is the tag of the parts.
func (s signer) valid(tag string, parts ...string) bool {
	return hmac.Equal([]byte(tag), []byte(s.tag(parts...)))
}
