package account_test

import (
	"regexp"
	"testing"

	"github.com/recoverydesk/recoverydesk/account"
)

func TestRecoveryCodes(t *testing.T) {
	codes, err := account.NewRecoveryCodes(account.RecoveryCodeCount)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 8 {
		t.Fatalf("%d codes", len(codes))
	}
	re := regexp.MustCompile(`^[2-9a-hjkmnp-z]{4}(-[2-9a-hjkmnp-z]{4}){3}$`)
	seen := map[string]bool{}
	for _, c := range codes {
		if !re.MatchString(c) {
			t.Fatalf("code %q has the wrong shape", c)
		}
		if seen[c] {
			t.Fatal("duplicate code")
		}
		seen[c] = true
	}
	c := codes[0]
	h := account.HashRecoveryCode(c)
	if h == c || len(h) != 64 {
		t.Fatalf("hash %q", h)
	}
	// Typed with other case, spaces instead of dashes: the same code.
	upper := regexp.MustCompile(`-`).ReplaceAllString(c, " ")
	if account.HashRecoveryCode(upperASCII(upper)) != h {
		t.Fatal("normalisation: case and separators must not matter")
	}
	if account.HashRecoveryCode(codes[1]) == h {
		t.Fatal("two codes hash alike")
	}
}

func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}
