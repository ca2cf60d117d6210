package account

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// RecoveryCodeCount is how many codes a user gets at a time.
const RecoveryCodeCount = 8

// recoveryAlphabet has no look-alike characters (0/O, 1/I/L), so a code
// copied from paper is typed right.
const recoveryAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"

// NewRecoveryCodes returns n fresh codes like "7k3f-9qxm-2hcd-w8ab" (80
// random bits each).
func NewRecoveryCodes(n int) ([]string, error) {
	codes := make([]string, n)
	buf := make([]byte, 16)
	for i := range codes {
		if _, err := rand.Read(buf); err != nil {
			return nil, fmt.Errorf("account: recovery code: %w", err)
		}
		var b strings.Builder
		for j, c := range buf {
			if j > 0 && j%4 == 0 {
				b.WriteByte('-')
			}
			// 256 is not a multiple of 31; the bias this leaves is far
			// below anything an attacker could use against 80 bits.
			b.WriteByte(recoveryAlphabet[int(c)%len(recoveryAlphabet)])
		}
		codes[i] = b.String()
	}
	return codes, nil
}

// HashRecoveryCode is how a code is stored. Codes are 80-bit random
// secrets, not human-chosen passwords, so a slow hash would add nothing
// against guessing; a plain SHA-256 lets a login find the code by its hash
// through an index in constant time.
func HashRecoveryCode(code string) string {
	h := sha256.Sum256([]byte(normalizeRecoveryCode(code)))
	return hex.EncodeToString(h[:])
}

// normalizeRecoveryCode forgives case, spaces and dashes.
func normalizeRecoveryCode(code string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			return -1
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return r
	}, code)
}
