package web

import (
	"regexp"
	"strings"

	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// urlPattern finds http(s) links in plain text. It stops at whitespace and
// at characters that cannot be part of a URL written in prose.
var urlPattern = regexp.MustCompile(`https?://[^\s<>"'` + "`" + `]+`)

// linkify cuts plain text into text and link segments. The template
// escapes both; the URLs are http(s) only, so no script scheme can get in.
func linkify(text string) []pages.TextSegment {
	var out []pages.TextSegment
	rest := 0
	for _, loc := range urlPattern.FindAllStringIndex(text, -1) {
		start, end := loc[0], loc[1]
		// Trailing punctuation usually ends the sentence, not the URL.
		end = start + len(trimURLTail(text[start:end]))
		if end-start <= len("https://") {
			continue
		}
		if start > rest {
			out = append(out, pages.TextSegment{Text: text[rest:start]})
		}
		out = append(out, pages.TextSegment{Text: text[start:end], URL: text[start:end]})
		rest = end
	}
	if rest < len(text) {
		out = append(out, pages.TextSegment{Text: text[rest:]})
	}
	return out
}

// trimURLTail drops sentence punctuation from the end of a URL, and a
// closing parenthesis unless the URL has a matching opening one.
func trimURLTail(u string) string {
	for u != "" {
		last := u[len(u)-1]
		switch {
		case strings.IndexByte(".,;:!?", last) >= 0:
			u = u[:len(u)-1]
		case last == ')' && strings.Count(u, "(") < strings.Count(u, ")"):
			u = u[:len(u)-1]
		case last == ']' && strings.Count(u, "[") < strings.Count(u, "]"):
			u = u[:len(u)-1]
		default:
			return u
		}
	}
	return u
}
