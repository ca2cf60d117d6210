package ratelimit

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// escaper keeps Key injective: a part containing ":" cannot pose as two
// parts. "%" is escaped first so escapes themselves stay unambiguous.
var escaper = strings.NewReplacer("%", "%25", ":", "%3a")

// Key joins parts with ":" into a limiter key, lower-cased, escaping ":"
// and "%" inside parts: Key("login", "user", "42") is "login:user:42", and
// Key("a:b") differs from Key("a", "b"). Lower-casing makes "Alice" and
// "alice" share a counter, as usernames and email addresses should.
func Key(parts ...string) string {
	escaped := make([]string, len(parts))
	for i, p := range parts {
		escaped[i] = escaper.Replace(strings.ToLower(p))
	}
	return strings.Join(escaped, ":")
}

// maxKeyBytes bounds what is stored: keys come partly from form input, and
// an index entry must stay small. Longer keys are stored as their SHA-256.
const maxKeyBytes = 200

// storedKey is the counter's key column: the rule name, "|", then the key,
// or for a long key the rule name, "#", then the key's SHA-256. Rule names
// contain neither "|" nor "#", so distinct (rule, key) pairs never collide.
func storedKey(rule, key string) string {
	if len(key) > maxKeyBytes {
		sum := sha256.Sum256([]byte(key))
		return rule + "#" + hex.EncodeToString(sum[:])
	}
	return rule + "|" + key
}
