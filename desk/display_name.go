package desk

import (
	"strings"
	"unicode"
)

// isBidiControl reports the invisible characters that reorder text
// (Unicode's Bidi_Control: embeddings, overrides, isolates and marks). In
// a display name they can make "attacker@evil.example" read as another
// address next to it.
func isBidiControl(r rune) bool { return unicode.Is(unicode.Bidi_Control, r) }

// cleanName makes a display name from mail storable and safe to show:
// clean, one line (control characters and line separators become
// spaces), without bidi controls.
func cleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case isBidiControl(r):
			return -1
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			return ' '
		}
		return r
	}, clean(s))
	return strings.TrimSpace(s)
}
