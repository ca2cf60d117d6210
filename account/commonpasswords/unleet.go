package commonpasswords

import "strings"

// Unleet returns s with every look-alike symbol replaced by the letter it
// stands for ("p@ssw0rd" → "password"); letters and other characters are
// kept. The table is zxcvbn's own l33t table, so the list lookup and the
// strength score agree on what a substitution is:
//
//	a: 4 @   b: 8   c: ( { [ <   e: 3   g: 6 9   i: 1 ! |   l: 1 | 7
//	o: 0   s: $ 5   t: + 7   x: %   z: 2
//
// Three symbols stand for two letters: 1 and | (i or l) and 7 (t or l).
// When s holds one of them a second reading is returned, with each of them
// read as "l" ("he11o" → "hello"). Mixed readings (1 as "i" and 7 as "l" in
// one word) are not tried: they are rare, and trying every combination
// grows exponentially — the reason zxcvbn's own l33t matcher takes seconds
// on long inputs. A string without such symbols is returned unchanged, as
// its only reading.
func Unleet(s string) []string {
	var first strings.Builder
	first.Grow(len(s))
	ambiguous := false
	for _, r := range s {
		first.WriteRune(letter(r, false))
		ambiguous = ambiguous || letter(r, true) != letter(r, false)
	}
	if !ambiguous {
		return []string{first.String()}
	}
	var second strings.Builder
	second.Grow(len(s))
	for _, r := range s {
		second.WriteRune(letter(r, true))
	}
	return []string{first.String(), second.String()}
}

// letter returns the letter a look-alike symbol stands for, or r itself.
// alt picks the second reading of the ambiguous symbols 1, | and 7.
func letter(r rune, alt bool) rune {
	switch r {
	case '4', '@':
		return 'a'
	case '8':
		return 'b'
	case '(', '{', '[', '<':
		return 'c'
	case '3':
		return 'e'
	case '6', '9':
		return 'g'
	case '!':
		return 'i'
	case '1', '|':
		if alt {
			return 'l'
		}
		return 'i'
	case '7':
		if alt {
			return 'l'
		}
		return 't'
	case '0':
		return 'o'
	case '$', '5':
		return 's'
	case '+':
		return 't'
	case '%':
		return 'x'
	case '2':
		return 'z'
	}
	return r
}
