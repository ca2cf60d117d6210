package mailbox

import (
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// mimeParams parses a Content-Type or Content-Disposition value into its
// lower-case first token and its parameters. Unlike mime.ParseMediaType it
// never gives up: unquoted spaces, duplicated or broken parameters and RFC
// 2231 values in any charset (not only UTF-8) are all read, and plain values
// holding RFC 2047 encoded words (as Outlook writes filenames) are decoded.
func mimeParams(v string) (string, map[string]string) {
	token, rest, _ := strings.Cut(v, ";")
	token = strings.ToLower(strings.TrimSpace(token))
	plain := map[string]string{}
	type segment struct {
		n        int
		extended bool
		value    string
	}
	ext := map[string][]segment{}
	for i := 0; len(rest) > 0 && i < 100; i++ {
		var key, value string
		key, value, rest = mimeNextParam(rest)
		if key == "" {
			continue
		}
		name, section, isSection := strings.Cut(key, "*")
		if !isSection {
			if _, dup := plain[name]; !dup {
				plain[name] = value
			}
			continue
		}
		// name*=..., name*0=..., name*0*=...
		s := segment{extended: strings.HasSuffix(section, "*") || section == "", value: value}
		num := strings.TrimSuffix(section, "*")
		if num != "" {
			n, err := strconv.Atoi(num)
			if err != nil || n < 0 || n > 100 {
				continue
			}
			s.n = n
		}
		ext[name] = append(ext[name], s)
	}
	params := make(map[string]string, len(plain)+len(ext))
	for k, v := range plain {
		params[k] = mimeDecodeWords(mimeDecodeCharset("", []byte(v)))
	}
	for name, segs := range ext {
		sort.SliceStable(segs, func(i, j int) bool { return segs[i].n < segs[j].n })
		var charsetLabel string
		var buf []byte
		for i, s := range segs {
			val := s.value
			if s.extended && i == 0 {
				// charset'language'value
				if parts := strings.SplitN(val, "'", 3); len(parts) == 3 {
					charsetLabel, val = parts[0], parts[2]
				}
			}
			if s.extended {
				if u, err := url.PathUnescape(val); err == nil {
					val = u
				}
			}
			buf = append(buf, val...)
		}
		params[name] = mimeDecodeCharset(charsetLabel, buf)
	}
	return token, params
}

// mimeNextParam reads one "key=value" from s (after the leading ';' and
// white space), returning the lower-case key, the unquoted value and the
// rest. A quoted value may contain ';' and backslash escapes.
func mimeNextParam(s string) (key, value, rest string) {
	s = strings.TrimLeft(s, " \t;")
	eq := strings.IndexAny(s, "=;")
	if eq < 0 {
		return "", "", ""
	}
	if s[eq] == ';' {
		return "", "", s[eq:]
	}
	key = strings.ToLower(strings.TrimSpace(s[:eq]))
	s = strings.TrimLeft(s[eq+1:], " \t")
	if strings.HasPrefix(s, `"`) {
		var b strings.Builder
		i := 1
		for ; i < len(s); i++ {
			c := s[i]
			if c == '\\' && i+1 < len(s) {
				i++
				b.WriteByte(s[i])
				continue
			}
			if c == '"' {
				i++
				break
			}
			b.WriteByte(c)
		}
		rest = s[i:]
		if j := strings.IndexByte(rest, ';'); j >= 0 {
			rest = rest[j:]
		} else {
			rest = ""
		}
		return key, b.String(), rest
	}
	if j := strings.IndexByte(s, ';'); j >= 0 {
		return key, strings.TrimSpace(s[:j]), s[j:]
	}
	return key, strings.TrimSpace(s), ""
}

// mimeFilename cleans a sender-chosen file name: only the last path
// element, no control characters, at most 255 bytes.
func mimeFilename(name string) string {
	name = strings.ReplaceAll(name, `\`, "/")
	name = strings.TrimSpace(mimeClean(name))
	name = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, name)
	if strings.Contains(name, "/") {
		name = path.Base(name)
	}
	if name == "." || name == "/" || name == ".." {
		return ""
	}
	for len(name) > 255 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}
