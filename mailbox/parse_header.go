package mailbox

import (
	"bytes"
	"fmt"
	"mime"
	"net/textproto"
	"strings"
)

// mimeRawField is a header field before any decoding: the value is unfolded
// but may hold 8-bit bytes in an unknown charset.
type mimeRawField struct {
	name  string
	value []byte
}

// mimeHeader is a parsed header section of a message or a MIME part.
type mimeHeader []mimeRawField

// get returns the first value of name (canonical form) as a string, or "".
func (h mimeHeader) get(name string) string {
	for _, f := range h {
		if f.name == name {
			return string(f.value)
		}
	}
	return ""
}

// mimeSplitHeader reads the header section at the start of b and returns
// it with the body after it. It is lenient the way mail readers are: a
// missing blank line (the header runs to the end), a line that is not a
// field (the body starts there), bare LF line endings. Fields past
// maxHeaderFields are skipped and counted in cut. It fails only when not
// one field can be read (ErrNotMessage), or the header section is larger
// than maxHeaderBytes (ErrTooLarge).
func mimeSplitHeader(b []byte) (h mimeHeader, body []byte, cut int, err error) {
	rest := b
	for len(rest) > 0 {
		line, next := mimeLine(rest)
		if len(line) == 0 {
			return h, next, cut, nil // the blank line ends the header
		}
		if len(b)-len(next) > maxHeaderBytes {
			return nil, nil, 0, fmt.Errorf("%w: header section exceeds %d bytes", ErrTooLarge, maxHeaderBytes)
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(h) > 0 && cut == 0 {
				last := &h[len(h)-1]
				last.value = mimeAppendFolded(last.value, line)
			}
			rest = next
			continue
		}
		if len(h) == maxHeaderFields {
			if !mimeIsFieldLine(line) {
				return h, rest, cut, nil
			}
			cut++
			rest = next
			continue
		}
		name, value, ok := mimeFieldLine(line)
		if !ok {
			if len(h) == 0 {
				return nil, nil, 0, ErrNotMessage
			}
			return h, rest, cut, nil // a body that forgot the blank line
		}
		h = append(h, mimeRawField{name: name, value: value})
		rest = next
	}
	if len(h) == 0 {
		return nil, nil, 0, ErrNotMessage
	}
	return h, nil, cut, nil
}

// mimeLine returns the line at the start of b without its line ending, and
// what follows the line ending.
func mimeLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return bytes.TrimSuffix(b, []byte("\r")), nil
	}
	return bytes.TrimSuffix(b[:i], []byte("\r")), b[i+1:]
}

// mimeTrimEnvelope drops what mail stores put before a message's header:
// a UTF-8 byte order mark and an mbox "From " separator line ("From"
// followed by a space cannot start a field).
func mimeTrimEnvelope(b []byte) []byte {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if bytes.HasPrefix(b, []byte("From ")) {
		_, b = mimeLine(b)
	}
	return b
}

// mimeFieldLine splits "Name: value". Spaces before the colon occur in the
// wild and are forgiven; any other byte outside 33..126 is not.
func mimeFieldLine(line []byte) (string, []byte, bool) {
	if !mimeIsFieldLine(line) {
		return "", nil, false
	}
	i := bytes.IndexByte(line, ':')
	key := bytes.TrimRight(line[:i], " \t")
	value := bytes.Trim(line[i+1:], " \t")
	return textproto.CanonicalMIMEHeaderKey(string(key)), append([]byte(nil), value...), true
}

// mimeIsFieldLine reports whether mimeFieldLine accepts line, without
// allocating.
func mimeIsFieldLine(line []byte) bool {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return false
	}
	key := bytes.TrimRight(line[:i], " \t")
	if len(key) == 0 {
		return false
	}
	for _, c := range key {
		if c < 33 || c > 126 {
			return false
		}
	}
	return true
}

// mimeAppendFolded unfolds a continuation line onto v with one space.
func mimeAppendFolded(v, line []byte) []byte {
	line = bytes.Trim(line, " \t")
	if len(line) == 0 {
		return v
	}
	if len(v) > 0 {
		v = append(v, ' ')
	}
	return append(v, line...)
}

// mimeWordDecoder decodes RFC 2047 encoded words. Its charset reader never
// fails, so a word in an unknown charset is decoded by mimeDecodeCharset's
// fallback instead of being left encoded.
func mimeWordDecoder() *mime.WordDecoder {
	return &mime.WordDecoder{CharsetReader: mimeCharsetCache{}.reader}
}

// mimeDecodeWords decodes the encoded words in s, returning s unchanged if
// they are too broken to decode.
func mimeDecodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	d, err := mimeWordDecoder().DecodeHeader(s)
	if err != nil {
		return s
	}
	return mimeClean(d)
}

// mimeFields turns the raw fields into HeaderFields. fallback is the charset
// to try for raw 8-bit header bytes (the body's charset: a sender who puts
// raw bytes in a header usually uses the same charset there).
func mimeFields(h mimeHeader, fallback string) []HeaderField {
	out := make([]HeaderField, 0, len(h))
	for _, f := range h {
		raw := mimeHeaderText(f.value, fallback)
		out = append(out, HeaderField{Name: f.name, Raw: raw, Value: mimeDecodeWords(raw)})
	}
	return out
}

// mimeHeaderText returns a raw header value as valid UTF-8.
func mimeHeaderText(v []byte, fallback string) string {
	return mimeClean(mimeDecodeCharset(fallback, v))
}

// mimeClean makes s valid UTF-8 (an encoded word may declare utf-8 and
// carry other bytes) and removes NUL bytes (PostgreSQL text cannot hold
// them) and other control characters that have no business in a header or
// a name.
func mimeClean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexFunc(s, mimeIsBadControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if mimeIsBadControl(r) {
			return -1
		}
		return r
	}, s)
}

func mimeIsBadControl(r rune) bool {
	return r < 32 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f
}
