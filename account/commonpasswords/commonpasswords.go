// Package commonpasswords answers whether a password is one of the 30,000
// most common passwords (zxcvbn 4.4.2's frequency list, see README.md), or
// one of them with the changes people most often make to get past a
// password rule: other capitals, a short tail of digits or symbols, or
// letters written as look-alike digits and symbols ("P@ssw0rd1!").
package commonpasswords

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

//go:embed passwords.txt
var list string

// set is built on first use, not at start-up, so a process that never
// checks a password does not pay for 30,000 map entries. It is never
// written after it is built.
var set = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 30000)
	for line := range strings.Lines(list) {
		if w := strings.TrimRight(line, "\r\n"); w != "" {
			m[w] = struct{}{}
		}
	}
	return m
})

// maxTailRunes is the longest tail of digits, symbols and spaces that is
// stripped before looking a password up: it covers the usual additions
// ("1", "123", "2024!", "123456") without refusing a common word followed
// by a long random number, which the strength score judges instead.
const maxTailRunes = 6

// Len returns how many passwords the list holds.
func Len() int {
	return len(set())
}

// Contains reports whether password, compared case-insensitively, is on
// the list, or becomes an entry when (a) a tail of at most six digits,
// punctuation, symbols or spaces is removed from its end, or (b) its
// look-alike symbols are read as letters (see Unleet), or both. These are
// the mangling rules password crackers try first, so such a variant is no
// harder to guess than the entry itself.
func Contains(password string) bool {
	words := set()
	lower := strings.ToLower(password)
	candidates := []string{lower}
	if base, ok := stripTail(lower); ok {
		candidates = append(candidates, base)
	}
	for _, c := range candidates {
		if _, ok := words[c]; ok {
			return true
		}
		for _, r := range Unleet(c) {
			if _, ok := words[r]; ok {
				return true
			}
		}
	}
	return false
}

// stripTail removes a run of one to maxTailRunes digits, punctuation,
// symbols or spaces from the end of s. It reports false when there is no
// such run, when the run is longer, or when nothing would be left.
func stripTail(s string) (string, bool) {
	end, n := len(s), 0
	for end > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:end])
		if !unicode.IsDigit(r) && !unicode.IsPunct(r) && !unicode.IsSymbol(r) && !unicode.IsSpace(r) {
			break
		}
		if n++; n > maxTailRunes {
			return "", false
		}
		end -= size
	}
	if n == 0 || end == 0 {
		return "", false
	}
	return s[:end], true
}
