package account

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	zxcvbn "github.com/nbutton23/zxcvbn-go"
	"github.com/nbutton23/zxcvbn-go/matching"

	"github.com/recoverydesk/recoverydesk/account/commonpasswords"
)

// MinPasswordRunes is the shortest password accepted, in characters
// (runes, not bytes, so a passphrase in any script counts the same).
const MinPasswordRunes = 8

// MinPasswordScore is the zxcvbn score (0 to 4) a password must reach. 3
// is zxcvbn's "safely unguessable: moderate protection from an offline
// slow-hash attack", an estimated 2·10^10 guesses or more (about 34 bits).
const MinPasswordScore = 3

// scoredRunes bounds the prefix that zxcvbn scores. zxcvbn-go's matchers
// grow with the cube of the length (random letters: about 4 ms at 64
// runes, 17 ms at 128; 2 s at 256 with its l33t matcher on), so the score
// looks at the first 64 runes only: a password whose first 64 characters
// are hard to guess is hard to guess. The price: a long password that
// starts with a guessable run ("aaaa…" then random) is refused as weak.
const scoredRunes = 64

// minPersonalRunes is the shortest username or email local part looked for
// inside a password; shorter ones ("al") would refuse too much by chance,
// and zxcvbn still counts them as easy words.
const minPersonalRunes = 4

// Reasons a password is refused. CheckPassword returns them inside a
// *PasswordError, so errors.Is(err, ErrPasswordCommon) works.
var (
	ErrPasswordTooShort = errors.New("account: password too short")
	ErrPasswordTooLong  = errors.New("account: password too long")
	ErrPasswordCommon   = errors.New("account: password on the common-passwords list")
	ErrPasswordPersonal = errors.New("account: password contains the username or email address")
	ErrPasswordWeak     = errors.New("account: password too easy to guess")
)

// PasswordError is why CheckPassword refused a password: Reason is one of
// the ErrPassword* sentinels, Message a sentence for the person choosing
// the password, saying what is wrong and how to fix it.
type PasswordError struct {
	Reason  error
	Message string
}

// Error returns the reason, for logs; show Message to people.
func (e *PasswordError) Error() string { return e.Reason.Error() }

// Unwrap returns the reason, for errors.Is.
func (e *PasswordError) Unwrap() error { return e.Reason }

// CheckPassword returns nil when password may be set, or a *PasswordError.
// userInputs are what others know about the account (username, email
// addresses): a password containing one is refused, and the strength
// score treats them as easy words. The checks, cheapest first: length (8
// characters to MaxPasswordBytes bytes), the common-passwords list and
// its trivial variants, the user's own names, then the zxcvbn score of
// the first 64 characters. It takes about 0.1 ms for a typical password
// and 10 ms at worst, whatever the input (BenchmarkCheckPassword).
func CheckPassword(password string, userInputs ...string) error {
	if len(password) > MaxPasswordBytes {
		return &PasswordError{ErrPasswordTooLong, fmt.Sprintf(
			"This password is too long: the limit is %d bytes, about %d plain letters (fewer with accents or other scripts). Choose a shorter one.",
			MaxPasswordBytes, MaxPasswordBytes)}
	}
	if n := utf8.RuneCountInString(password); n < MinPasswordRunes {
		return &PasswordError{ErrPasswordTooShort, fmt.Sprintf(
			"Use at least %d characters; this password has %d. A passphrase of four or more random words is long and easy to remember.",
			MinPasswordRunes, n)}
	}
	if commonpasswords.Contains(password) {
		return &PasswordError{ErrPasswordCommon,
			"This password is on a list of commonly used passwords, or is one of them with small changes. Choose something others are unlikely to guess — a passphrase of four or more random words works well."}
	}
	personal := personalWords(userInputs)
	if containsPersonal(password, personal) {
		return &PasswordError{ErrPasswordPersonal,
			"This password contains your username or email address, which others can find out. Choose one that doesn't include them."}
	}
	if passwordScore(password, personal) < MinPasswordScore {
		return &PasswordError{ErrPasswordWeak,
			"This password is too easy to guess: it is short or follows a common pattern, such as a word with a few changes, a name, a date, a keyboard row or a repeated sequence. Make it longer and less predictable — a passphrase of four or more random words works well."}
	}
	return nil
}

// passwordScore is the lowest zxcvbn score of the first scoredRunes of
// password, as typed and read without look-alike symbols. zxcvbn-go's own
// l33t matcher is switched off: it tries every combination of
// substitutions and takes about a second on 64 characters of symbols, a
// denial of service. Scoring commonpasswords.Unleet's one or two readings
// instead finds the same words ("dr@g0n") for at most two more runs.
func passwordScore(password string, personal []string) int {
	prefix, n := password, 0
	for i := range password {
		if n == scoredRunes {
			prefix = password[:i]
			break
		}
		n++
	}
	prefix = strings.ToValidUTF8(prefix, "\uFFFD")
	score := zxcvbn.PasswordStrength(prefix, personal, matching.FilterL33tMatcher).Score
	for _, r := range commonpasswords.Unleet(prefix) {
		if score < MinPasswordScore {
			break
		}
		if r != prefix {
			score = min(score, zxcvbn.PasswordStrength(r, personal, matching.FilterL33tMatcher).Score)
		}
	}
	return score
}

// personalWords returns the user inputs, lowercased, with each email
// address's local part added, and it or a bare local part once more
// without its "+tag"; each of them also with only its letters and digits
// ("j.smith" → "jsmith").
func personalWords(userInputs []string) []string {
	var words []string
	add := func(w string) {
		if w != "" {
			words = append(words, w)
			if f := fold(w); f != w && f != "" {
				words = append(words, f)
			}
		}
	}
	for _, in := range userInputs {
		in = strings.ToLower(strings.TrimSpace(in))
		add(in)
		local := in
		if at := strings.LastIndexByte(in, '@'); at > 0 {
			local = in[:at]
			add(local)
		}
		if base, _, tagged := strings.Cut(local, "+"); tagged {
			add(base)
		}
	}
	return words
}

// containsPersonal reports whether password, compared on letters and
// digits only and also read without look-alike symbols, contains one of
// the personal words of at least minPersonalRunes characters.
func containsPersonal(password string, personal []string) bool {
	lower := strings.ToLower(password)
	readings := append([]string{fold(lower)}, commonpasswords.Unleet(lower)...)
	for i := 1; i < len(readings); i++ {
		readings[i] = fold(readings[i])
	}
	for _, w := range personal {
		w = fold(w)
		if utf8.RuneCountInString(w) < minPersonalRunes {
			continue
		}
		for _, r := range readings {
			if strings.Contains(r, w) {
				return true
			}
		}
	}
	return false
}

// fold keeps only the letters and digits of s.
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, s)
}
