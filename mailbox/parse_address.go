package mailbox

import (
	"net/mail"
	"regexp"
	"strings"
	"time"
)

// maxAddresses bounds each of Parsed.To, Cc and ReplyTo. A 1 MiB To field
// holds 200,000 addresses, which net/mail turns into 40 MiB of values;
// a thousand is more than any mail to a help desk carries.
const maxAddresses = 1000

// mimeAddAddresses appends the addresses of field value v to list, up to
// maxAddresses in all, and reports whether any were skipped.
func mimeAddAddresses(list []mail.Address, v string) ([]mail.Address, bool) {
	room := maxAddresses - len(list)
	if room <= 0 {
		return list, strings.TrimSpace(v) != ""
	}
	more, cut := mimeAddressList(v, room)
	return append(list, more...), cut
}

// mimeAddressList parses an address field, up to limit addresses; it
// reports whether there were more. net/mail handles the standard forms
// (with RFC 2047 names); when it refuses the whole list, each
// comma-separated piece is tried alone and, failing that, the address is
// dug out of "<...>" or the word holding an '@'.
func mimeAddressList(v string, limit int) ([]mail.Address, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, false
	}
	// Past limit pieces the rest is not parsed at all.
	cut := false
	mimeAddressCommas(v, func(i, n int) bool {
		if n < limit {
			return true
		}
		v, cut = v[:i], true
		return false
	})
	out := mimeParseAddresses(v)
	if len(out) > limit {
		out, cut = out[:limit], true
	}
	return out, cut
}

func mimeParseAddresses(v string) []mail.Address {
	ap := mail.AddressParser{WordDecoder: mimeWordDecoder()}
	if list, err := ap.ParseList(v); err == nil {
		out := make([]mail.Address, 0, len(list))
		for _, a := range list {
			out = append(out, mail.Address{Name: mimeClean(a.Name), Address: mimeClean(a.Address)})
		}
		return out
	}
	var out []mail.Address
	for _, piece := range mimeSplitAddresses(v) {
		if a, err := ap.Parse(piece); err == nil {
			out = append(out, mail.Address{Name: mimeClean(a.Name), Address: mimeClean(a.Address)})
			continue
		}
		if a, ok := mimeDigAddress(piece); ok {
			out = append(out, a)
		}
	}
	return out
}

// mimeSplitAddresses splits at commas outside quotes, comments and <...>.
func mimeSplitAddresses(v string) []string {
	var out []string
	start := 0
	mimeAddressCommas(v, func(i, _ int) bool {
		out = append(out, v[start:i])
		start = i + 1
		return true
	})
	return append(out, v[start:])
}

// mimeAddressCommas calls yield with the index of each comma of v outside
// quotes, comments and <...>, and how many came before it, while yield
// returns true.
func mimeAddressCommas(v string, yield func(i, n int) bool) {
	depth, quoted, angle, n := 0, false, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"' && depth == 0:
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case c == '<' && depth == 0:
			angle = true
		case c == '>' && depth == 0:
			angle = false
		case c == ',' && depth == 0 && !angle:
			if !yield(i, n) {
				return
			}
			n++
		}
	}
}

var mimeAtWord = regexp.MustCompile(`[^\s<>"(),;:]+@[^\s<>"(),;:]+`)

// mimeDigAddress recovers an address from a piece net/mail refused, e.g.
// `Jörg Müller <j@x>` with raw 8-bit bytes or `"unbalanced <j@x>`.
func mimeDigAddress(piece string) (mail.Address, bool) {
	piece = strings.TrimSpace(piece)
	if lt := strings.LastIndexByte(piece, '<'); lt >= 0 {
		inner := piece[lt+1:]
		if gt := strings.IndexByte(inner, '>'); gt >= 0 {
			inner = inner[:gt]
		}
		addr := strings.TrimSpace(inner)
		if addr == "" || !strings.Contains(addr, "@") {
			return mail.Address{}, false
		}
		name := strings.Trim(strings.TrimSpace(piece[:lt]), `"' `)
		return mail.Address{Name: mimeClean(mimeDecodeWords(name)), Address: mimeClean(addr)}, true
	}
	addr := mimeAtWord.FindString(piece)
	if addr == "" {
		return mail.Address{}, false
	}
	name := strings.TrimSpace(strings.Replace(piece, addr, "", 1))
	name = strings.Trim(name, `"'() `)
	return mail.Address{Name: mimeClean(mimeDecodeWords(name)), Address: mimeClean(addr)}, true
}

// mimeDateLayouts are the forms mail.ParseDate refuses that real mailers
// send: no day name or seconds, two-digit years, named zones, ctime/asctime
// (mbox-style), ISO 8601, dashes between day, month and year.
var mimeDateLayouts = []string{
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04 -0700",
	"Mon, 2 Jan 06 15:04:05 -0700",
	"Mon, 2 Jan 06 15:04:05 MST",
	"2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04 -0700",
	"2 Jan 06 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05",
	"2 Jan 2006 15:04:05",
	"Mon, 2-Jan-2006 15:04:05 -0700",
	"2-Jan-2006 15:04:05 -0700",
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 15:04:05 MST 2006",
	"Mon Jan 2 15:04:05 -0700 2006",
	"Monday, January 2, 2006 3:04 PM",
	"Monday, January 2, 2006 15:04:05 -0700",
	time.RFC3339,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 MST",
	"2006-01-02 15:04:05",
}

var (
	mimeDateComment  = regexp.MustCompile(`\([^()]*\)`)
	mimeDateTrailing = regexp.MustCompile(`([+-]\d{4})\s+[A-Za-z]{1,5}$`)
	mimeDateOffset   = regexp.MustCompile(`(?:GMT|UTC|UT)([+-]\d{1,2})(?::?(\d{2}))?$`)
)

// mimeParseDate understands Date values net/mail.ParseDate does not; it
// returns the zero time for nonsense.
func mimeParseDate(v string) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	if t, err := mail.ParseDate(v); err == nil {
		return mimeSaneDate(t)
	}
	v = mimeDateComment.ReplaceAllString(v, " ")
	v = strings.Join(strings.Fields(v), " ")
	v = mimeDateTrailing.ReplaceAllString(v, "$1")
	if m := mimeDateOffset.FindStringSubmatch(v); m != nil {
		h := m[1]
		if len(h) == 2 { // "+2" → "+02"
			h = h[:1] + "0" + h[1:]
		}
		mm := m[2]
		if mm == "" {
			mm = "00"
		}
		v = strings.TrimSpace(v[:len(v)-len(m[0])]) + " " + h + mm
	}
	for _, layout := range mimeDateLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return mimeSaneDate(t)
		}
	}
	if t, err := mail.ParseDate(v); err == nil {
		return mimeSaneDate(t)
	}
	return time.Time{}
}

// mimeSaneDate keeps dates a database and a person can use.
func mimeSaneDate(t time.Time) time.Time {
	if t.Year() < 1970 || t.Year() > 9999 {
		return time.Time{}
	}
	return t
}
