package account_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	zxcvbn "github.com/nbutton23/zxcvbn-go"
	"github.com/nbutton23/zxcvbn-go/matching"

	"github.com/recoverydesk/recoverydesk/account"
)

// randomPassword returns n bytes from alphabet, the same for the same seed.
func randomPassword(seed uint64, n int, alphabet string) string {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

const (
	letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	// leetSymbols is every symbol of zxcvbn's l33t table: the input that
	// makes zxcvbn-go's own l33t matcher take seconds.
	leetSymbols = "4@8({[<3691!|0$5+7%2"
)

func TestCheckPassword(t *testing.T) {
	user := []string{"alicesmith", "A.Smith+pypi@example.org"}
	tests := []struct {
		name string
		pw   string
		want error // nil: accepted
	}{
		{"empty", "", account.ErrPasswordTooShort},
		{"seven characters", "Xk9#mP2", account.ErrPasswordTooShort},
		{"seven runes in 21 bytes", "日本語のパスワ", account.ErrPasswordTooShort},
		{"eight characters, random", "Xk9#mP2q", nil},
		{"eight characters, weak", "jjjjkkkk", account.ErrPasswordWeak},
		{"eight characters, alphabet run", "abcdefgh", account.ErrPasswordWeak},
		{"common", "password", account.ErrPasswordCommon},
		{"common in capitals", "PASSWORD", account.ErrPasswordCommon},
		{"common with look-alikes and a tail", "P@ssw0rd1", account.ErrPasswordCommon},
		{"common with a tail", "qwerty123", account.ErrPasswordCommon},
		{"common with a year", "Summer2024!", account.ErrPasswordCommon},
		{"username inside", "my-AliceSmith-is-here", account.ErrPasswordPersonal},
		{"username with separators", "Alice_Smith rules 1987", account.ErrPasswordPersonal},
		{"username in look-alikes", "xq-4l1c3sm1th-zv", account.ErrPasswordPersonal},
		{"email local part, tag dropped", "asmith!orbit?kettle", account.ErrPasswordPersonal},
		{"whole email address", "a.smith+pypi@example.org", account.ErrPasswordPersonal},
		{"two common words", "monkeybanana", account.ErrPasswordWeak},
		{"two common words in look-alikes", "m0nk3yb@n@n@", account.ErrPasswordWeak},
		{"passphrase", "kettle-marble-violin-orbit", nil},
		{"passphrase with spaces", "correct horse battery staple", nil},
		{"unicode passphrase", "ключ дверь окно лес", nil},
		{"eight unicode runes", "äöüßéèêë", nil},
		{"4096 bytes", randomPassword(1, account.MaxPasswordBytes, letters), nil},
		{"4097 bytes", randomPassword(1, account.MaxPasswordBytes+1, letters), account.ErrPasswordTooLong},
		{"long but a repeated word", strings.Repeat("password", 100), account.ErrPasswordWeak},
		{"4096 bytes, weak start", strings.Repeat("a", account.MaxPasswordBytes), account.ErrPasswordWeak},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := account.CheckPassword(tt.pw, user...)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckPassword(%q) = %v, want nil", tt.pw, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("CheckPassword(%q) = %v, want %v", tt.pw, err, tt.want)
			}
			var pe *account.PasswordError
			if !errors.As(err, &pe) || pe.Message == "" || strings.HasPrefix(pe.Message, "account:") {
				t.Fatalf("CheckPassword(%q) = %#v, want a *PasswordError with a message for people", tt.pw, err)
			}
		})
	}
}

// The look-alike readings, not zxcvbn-go's (disabled) l33t matcher, are
// what refuse "m0nk3yb@n@n@": scored as typed it looks random.
func TestCheckPasswordLeetNeedsReadings(t *testing.T) {
	if s := zxcvbn.PasswordStrength("m0nk3yb@n@n@", nil, matching.FilterL33tMatcher).Score; s < account.MinPasswordScore {
		t.Fatalf("precondition: raw score %d already below %d; the test proves nothing", s, account.MinPasswordScore)
	}
	if err := account.CheckPassword("m0nk3yb@n@n@"); !errors.Is(err, account.ErrPasswordWeak) {
		t.Fatalf("got %v, want ErrPasswordWeak", err)
	}
}

// Callers may pass an email's local part alone; its "+tag" is dropped too.
func TestCheckPasswordLocalPartAlone(t *testing.T) {
	if err := account.CheckPassword("kettle?asmith!orbit", "alicesmith", "A.Smith+pypi"); !errors.Is(err, account.ErrPasswordPersonal) {
		t.Fatalf("got %v, want ErrPasswordPersonal", err)
	}
	if err := account.CheckPassword("kettle?asmith!orbit", "alicesmith"); err != nil {
		t.Fatalf("without the local part: got %v, want nil", err)
	}
}

// Short user inputs are not looked for inside passwords: "al" would refuse
// every password with those two letters.
func TestCheckPasswordShortUsername(t *testing.T) {
	if err := account.CheckPassword("kettle-marble-violin-orbit", "al", "ma@example.org"); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
}

// Messages say what to do; each reason has its own.
func TestPasswordMessages(t *testing.T) {
	seen := map[string]bool{}
	for _, pw := range []string{"short", "password", "alicesmith-xq-zv", "jjjjkkkk", strings.Repeat("x", 5000)} {
		var pe *account.PasswordError
		if !errors.As(account.CheckPassword(pw, "alicesmith"), &pe) {
			t.Fatalf("%q accepted", pw)
		}
		if seen[pe.Message] {
			t.Errorf("message %q used for two reasons", pe.Message)
		}
		seen[pe.Message] = true
		if !strings.HasSuffix(pe.Message, ".") || len(pe.Message) < 40 {
			t.Errorf("message %q is not a full sentence", pe.Message)
		}
	}
}

func FuzzCheckPassword(f *testing.F) {
	for _, s := range []string{"", "password", "P@ssw0rd1", "ключ дверь окно лес", "\xff\xfe\xfdabcdefgh", "𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞", leetSymbols} {
		f.Add(s, "alicesmith")
	}
	f.Fuzz(func(t *testing.T, pw, user string) {
		err := account.CheckPassword(pw, user)
		if err == nil {
			if utf8.RuneCountInString(pw) < account.MinPasswordRunes || len(pw) > account.MaxPasswordBytes {
				t.Fatalf("%q accepted outside the length limits", pw)
			}
			return
		}
		var pe *account.PasswordError
		if !errors.As(err, &pe) || pe.Message == "" {
			t.Fatalf("CheckPassword(%q) = %#v, want a *PasswordError", pw, err)
		}
	})
}

func BenchmarkCheckPassword(b *testing.B) {
	account.CheckPassword("warm up the common-passwords set")
	for _, bm := range []struct{ name, pw string }{
		{"16 characters", "tq8-Vole-Brisk-x"},
		{"4096 bytes letters", randomPassword(1, account.MaxPasswordBytes, letters)},
		{"4096 bytes symbols", randomPassword(2, account.MaxPasswordBytes, leetSymbols)},
		{"4096 bytes 4-byte runes", strings.Repeat("𝄞", account.MaxPasswordBytes/4)},
	} {
		b.Run(bm.name, func(b *testing.B) {
			for b.Loop() {
				_ = account.CheckPassword(bm.pw, "alicesmith", "alice@example.org")
			}
		})
	}
}
