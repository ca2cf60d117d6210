package account

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are argon2id's cost parameters. They are written into
// every hash, so raising them later re-hashes each password at its next
// successful login (see VerifyPassword's rehash result).
type PasswordParams struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultPasswordParams: 64 MiB, 1 pass, 1 lane — above OWASP's argon2id
// minimum (46 MiB, 1 pass), and about 45-50 ms per hash on the 2-core
// machines this runs on (BenchmarkHashPassword; 2 passes measured ~95 ms).
var DefaultPasswordParams = PasswordParams{Memory: 64 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// MaxPasswordBytes bounds the input, so a huge password cannot make hashing
// a denial of service.
const MaxPasswordBytes = 4096

// ErrMalformedHash means a stored hash is not one this package wrote.
var ErrMalformedHash = errors.New("account: malformed password hash")

// HashPassword returns the PHC-format argon2id hash of password.
func HashPassword(password string, p PasswordParams) (string, error) {
	if len(password) > MaxPasswordBytes {
		return "", fmt.Errorf("account: password longer than %d bytes", MaxPasswordBytes)
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("account: password salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches hash, and whether the
// hash should be replaced because it was made with other parameters.
func VerifyPassword(hash, password string, current PasswordParams) (ok, rehash bool, err error) {
	if len(password) > MaxPasswordBytes {
		return false, false, nil
	}
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, false, ErrMalformedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, false, ErrMalformedHash
	}
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, false, ErrMalformedHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, false, ErrMalformedHash
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, false, ErrMalformedHash
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	rehash = p.Memory != current.Memory || p.Time != current.Time || p.Threads != current.Threads || uint32(len(want)) != current.KeyLen
	return true, rehash, nil
}
