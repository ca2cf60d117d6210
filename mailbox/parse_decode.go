package mailbox

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/charmap"
)

// mimeCharsetKnown reports whether label names a charset we can decode;
// an unknown one earns a warning.
func mimeCharsetKnown(label string) bool {
	label = mimeCharsetLabel(label)
	if mimeIsUTF8Label(label) {
		return true
	}
	_, err := charset.Reader(label, bytes.NewReader(nil))
	return err == nil
}

func mimeCharsetLabel(label string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(label), `"'`))
}

// mimeIsUTF8Label covers the labels that mean UTF-8 or plain ASCII, and
// the empty or meaningless ones that tell us nothing.
func mimeIsUTF8Label(label string) bool {
	switch label {
	case "", "utf-8", "utf8", "us-ascii", "ascii", "unicode-1-1-utf-8",
		"x-unknown", "unknown", "unknown-8bit", "x-user-defined", "default":
		return true
	}
	return false
}

// mimeDecodeCharset converts b from the named charset to UTF-8. It never
// fails: bytes in an unknown charset are kept when they are valid UTF-8
// and read as Windows-1252 (a superset of Latin-1) otherwise; undecodable
// sequences become U+FFFD.
func mimeDecodeCharset(label string, b []byte) string {
	label = mimeCharsetLabel(label)
	if mimeIsUTF8Label(label) {
		if utf8.Valid(b) {
			return string(b)
		}
		if label == "utf-8" || label == "utf8" {
			return strings.ToValidUTF8(string(b), "\uFFFD")
		}
		return mimeWindows1252(b)
	}
	r, err := charset.Reader(label, bytes.NewReader(b))
	if err != nil {
		if utf8.Valid(b) {
			return string(b)
		}
		return mimeWindows1252(b)
	}
	out, err := io.ReadAll(r)
	if err != nil && len(out) == 0 {
		return mimeWindows1252(b)
	}
	return strings.ToValidUTF8(string(out), "\uFFFD")
}

func mimeWindows1252(b []byte) string {
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(out)
}

// mimeCharsetReader adapts mimeDecodeCharset for mime.WordDecoder.
func mimeCharsetReader(label string, r io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return strings.NewReader(mimeDecodeCharset(label, b)), nil
}

// mimeTransferEncoding normalises a Content-Transfer-Encoding value and
// reports whether we know it; unknown ones are read as 8bit.
func mimeTransferEncoding(v string) (string, bool) {
	v = strings.ToLower(strings.Trim(strings.TrimSpace(v), `"'`))
	switch v {
	case "base64", "quoted-printable":
		return v, true
	case "", "7bit", "8bit", "binary":
		return "8bit", true
	}
	return "8bit", false
}

// mimeTransferReader decodes body per its transfer encoding as a stream,
// so an oversized attachment is hashed without being held twice.
func mimeTransferReader(enc string, body []byte) io.Reader {
	switch enc {
	case "base64":
		return &mimeBase64Reader{src: body}
	case "quoted-printable":
		return &mimeQPReader{src: body}
	}
	return bytes.NewReader(body)
}

// mimeBase64Reader decodes base64 leniently: bytes outside the alphabet
// (line noise, stray punctuation) are skipped, padding ends a quantum
// wherever it appears (blobs pasted one after another), the URL-safe
// alphabet is accepted, and a cut-off last quantum yields what it can.
type mimeBase64Reader struct {
	src     []byte
	quad    [4]byte
	nq      int
	pending []byte
	buf     [3]byte
}

func (r *mimeBase64Reader) Read(p []byte) (int, error) {
	for len(r.pending) == 0 {
		if len(r.src) == 0 {
			r.flush()
			if len(r.pending) == 0 {
				return 0, io.EOF
			}
			break
		}
		chunk := r.src
		if len(chunk) > 4096 {
			chunk = chunk[:4096]
		}
		r.src = r.src[len(chunk):]
		for _, c := range chunk {
			switch {
			case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			case c == '-':
				c = '+'
			case c == '_':
				c = '/'
			case c == '=':
				r.flush()
				continue
			default:
				continue
			}
			r.quad[r.nq] = c
			r.nq++
			if r.nq == 4 {
				r.flush()
			}
		}
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

// flush decodes the quantum collected so far; a single leftover character
// carries no whole byte and is dropped.
func (r *mimeBase64Reader) flush() {
	if r.nq >= 2 {
		n, _ := base64.RawStdEncoding.Decode(r.buf[:], r.quad[:r.nq])
		r.pending = append(r.pending, r.buf[:n]...)
	}
	r.nq = 0
}

// mimeQPReader decodes quoted-printable line by line, leniently: an '='
// not followed by two hex digits stays literal, trailing white space is
// dropped, and a soft line break ("=" at the end of a line) joins lines.
type mimeQPReader struct {
	src     []byte
	pending []byte
}

func (r *mimeQPReader) Read(p []byte) (int, error) {
	for len(r.pending) == 0 {
		if len(r.src) == 0 {
			return 0, io.EOF
		}
		line := r.src
		i := bytes.IndexByte(line, '\n')
		if i >= 0 {
			line = line[:i+1]
		}
		r.src = r.src[len(line):]
		r.pending = mimeQPLine(r.pending[:0], line)
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

// mimeQPLine appends the decoding of one line (with its ending, if any).
func mimeQPLine(dst, line []byte) []byte {
	body := line
	ending := ""
	switch {
	case bytes.HasSuffix(body, []byte("\r\n")):
		body, ending = body[:len(body)-2], "\r\n"
	case bytes.HasSuffix(body, []byte("\n")):
		body, ending = body[:len(body)-1], "\n"
	}
	body = bytes.TrimRight(body, " \t")
	if bytes.HasSuffix(body, []byte("=")) {
		body, ending = body[:len(body)-1], ""
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == '=' && i+2 < len(body) {
			if hi, ok := mimeUnhex(body[i+1]); ok {
				if lo, ok := mimeUnhex(body[i+2]); ok {
					dst = append(dst, hi<<4|lo)
					i += 2
					continue
				}
			}
		}
		dst = append(dst, c)
	}
	return append(dst, ending...)
}

func mimeUnhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
