package account_test

import (
	"strings"
	"testing"

	"github.com/recoverydesk/recoverydesk/account"
)

// cheap keeps tests fast; the real parameters are measured by the benchmark.
var cheap = account.PasswordParams{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestPasswordHashRoundTrip(t *testing.T) {
	h, err := account.HashPassword("correct horse battery staple", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("hash %q is not PHC argon2id with the given parameters", h)
	}
	h2, _ := account.HashPassword("correct horse battery staple", cheap)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	tests := []struct {
		name, password string
		params         account.PasswordParams
		ok, rehash     bool
	}{
		{"right", "correct horse battery staple", cheap, true, false},
		{"wrong", "correct horse battery stapler", cheap, false, false},
		{"empty", "", cheap, false, false},
		{"right, stronger params now", "correct horse battery staple", account.DefaultPasswordParams, true, true},
		{"too long", strings.Repeat("a", account.MaxPasswordBytes+1), cheap, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash, err := account.VerifyPassword(h, tc.password, tc.params)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.ok || rehash != tc.rehash {
				t.Fatalf("ok=%v rehash=%v, want %v %v", ok, rehash, tc.ok, tc.rehash)
			}
		})
	}
}

func TestPasswordMalformedHash(t *testing.T) {
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=x$AAAA$AAAA", "$argon2id$v=19$m=1024,t=1,p=1$!!$AAAA"} {
		if _, _, err := account.VerifyPassword(h, "x", cheap); err == nil {
			t.Errorf("hash %q: want an error", h)
		}
	}
	if _, err := account.HashPassword(strings.Repeat("a", account.MaxPasswordBytes+1), cheap); err == nil {
		t.Fatal("hashing an over-long password must fail")
	}
}

func BenchmarkHashPassword(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := account.HashPassword("correct horse battery staple", account.DefaultPasswordParams); err != nil {
			b.Fatal(err)
		}
	}
}
