package desk

import "strings"

// isBidiControl reports the invisible characters that reorder text:
// embeddings, overrides, isolates and marks. In a display name they can
// make "attacker@evil.example" read as another address next to it.
func isBidiControl(r rune) bool {
	return r >= '\u202A' && r <= '\u202E' || r >= '\u2066' && r <= '\u2069' ||
		r == '\u200E' || r == '\u200F' || r == '\u061C'
}

// cleanName makes a display name from mail storable and safe to show:
// clean, one line, without bidi controls.
func cleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case isBidiControl(r):
			return -1
		case r == '\r' || r == '\n' || r == '\t':
			return ' '
		}
		return r
	}, clean(s))
	return strings.TrimSpace(s)
}
