package mailbox

import (
	"strings"
	"unicode"
)

// maxMessageIDLen bounds a normalised ID: longer "IDs" are garbage, and an
// ID must fit a unique index.
const maxMessageIDLen = 998

// maxReferences bounds ParseMessageIDList; a long thread keeps its root and
// its most recent IDs, which are what threading looks at.
const maxReferences = 100

// NormalizeMessageID returns the message ID in s without angle brackets,
// white space or control characters, with the part after the last '@'
// lower-cased (domains are case-insensitive, local parts are not):
// " <Abc@Host.Example> " becomes "Abc@host.example". When s holds an
// <...> token, only the first one counts. It returns "" for an empty ID
// or one longer than 998 bytes.
func NormalizeMessageID(s string) string {
	if i := strings.IndexByte(s, '<'); i >= 0 {
		s = s[i+1:]
		if j := strings.IndexByte(s, '>'); j >= 0 {
			s = s[:j]
		}
	}
	s = strings.Map(func(r rune) rune {
		// Invalid UTF-8 comes in as U+FFFD and is dropped with the rest.
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '<' || r == '>' || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, s)
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		s = s[:at+1] + strings.ToLower(s[at+1:])
	}
	if len(s) > maxMessageIDLen {
		return ""
	}
	return s
}

// ParseMessageIDList reads the IDs of a References or In-Reply-To field,
// normalised, in order, without duplicates. It tolerates what mailers send:
// missing angle brackets, commas, folded white space, comments and
// surrounding prose ("your message of ... <id>"); only tokens with an '@'
// count as IDs. At most 100 IDs are returned: the first and the last 99.
func ParseMessageIDList(s string) []string {
	var ids []string
	seen := map[string]bool{}
	add := func(tok string) {
		id := NormalizeMessageID(tok)
		if id == "" || seen[id] {
			return
		}
		seen[id] = true
		ids = append(ids, id)
	}
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '<':
			end := strings.IndexAny(s[i+1:], "<>")
			if end < 0 {
				// Unterminated: take up to white space, if it looks like an ID.
				tok := s[i+1:]
				if sp := strings.IndexAny(tok, " \t\r\n,"); sp >= 0 {
					tok = tok[:sp]
				}
				if strings.Contains(tok, "@") {
					add(tok)
				}
				i += 1 + len(tok)
				continue
			}
			if s[i+1+end] == '>' {
				if tok := s[i+1 : i+1+end]; strings.Contains(tok, "@") {
					add(tok)
				}
				i += end + 2
			} else {
				i += end + 1 // "<<id>": start again at the inner '<'
			}
		case c == '(':
			i += mimeCommentLen(s[i:])
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' || c == ';' || c == '>':
			i++
		default:
			end := strings.IndexAny(s[i:], " \t\r\n,;<>(")
			if end < 0 {
				end = len(s) - i
			}
			tok := strings.Trim(s[i:i+end], `"'.:`)
			if at := strings.IndexByte(tok, '@'); at > 0 && at < len(tok)-1 {
				add(tok)
			}
			i += end
		}
	}
	if len(ids) > maxReferences {
		ids = append(ids[:1], ids[len(ids)-(maxReferences-1):]...)
	}
	return ids
}

// mimeCommentLen returns the length of the (possibly nested, possibly
// unterminated) comment at the start of s.
func mimeCommentLen(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(s)
}
