package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/recoverycode"
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

// ErrRecoveryCodeInvalid: the code is wrong or was already used.
var ErrRecoveryCodeInvalid = errors.New("account: that recovery code is not valid or was already used")

// UseRecoveryCode burns one unused code of userID and returns how many are
// left. The conditional update makes a code single-use even when two
// logins race with it.
func UseRecoveryCode(ctx context.Context, client *ent.Client, userID int, code string, now time.Time) (int, error) {
	n, err := client.RecoveryCode.Update().
		Where(
			recoverycode.UserID(userID),
			recoverycode.CodeHash(HashRecoveryCode(code)),
			recoverycode.UsedAtIsNil(),
		).
		SetUsedAt(now).
		Save(ctx)
	if err != nil {
		return 0, fmt.Errorf("account: use recovery code of user %d: %w", userID, err)
	}
	if n == 0 {
		return 0, ErrRecoveryCodeInvalid
	}
	left, err := client.RecoveryCode.Query().Where(recoverycode.UserID(userID), recoverycode.UsedAtIsNil()).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("account: count recovery codes of user %d: %w", userID, err)
	}
	return left, nil
}
