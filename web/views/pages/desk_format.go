package pages

import "strings"

// deskWords turns a stored value ("waiting_on_requester") into words for
// staff ("Waiting on requester").
func deskWords(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// plural picks the word for n things.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
