package mailbox

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"
	"unicode/utf8"

	// Imported for its side effect too, as before: it registers
	// message.CharsetReader for code reading mail with go-message.
	_ "github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
)

// mimeCharsetKnown reports whether label names a charset we can decode;
// an unknown one earns a warning.
func mimeCharsetKnown(label string) bool {
	label = mimeCharsetLabel(label)
	return mimeIsUTF8Label(label) || mimeEncoding(label) != nil
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

// mimeCharsetQuirks are the labels go-message's charset package knows
// beyond the IANA and WHATWG names (its own quirks table).
var mimeCharsetQuirks = map[string]encoding.Encoding{
	"ansi_x3.110-1983": charmap.ISO8859_1,
	"x-utf_8j":         unicode.UTF8,
}

// mimeEncoding finds the encoding of a lower-case label the way
// go-message's charset.Reader does, or returns nil. Unlike charset.Reader
// it hands back the encoding, so that a body or an encoded word is decoded
// in one Bytes call: a Reader allocates 8 KiB of buffers each time, which
// an encoded-word storm multiplies by tens of thousands.
func mimeEncoding(label string) encoding.Encoding {
	if enc, ok := mimeCharsetQuirks[label]; ok {
		return enc
	}
	enc, err := ianaindex.MIME.Encoding(label)
	if enc == nil {
		enc, err = ianaindex.MIME.Encoding("cs" + label)
	}
	if enc == nil {
		enc, err = htmlindex.Get(label)
	}
	if err != nil {
		return nil
	}
	return enc
}

// mimeCharsetCache remembers the encodings of the labels met within one
// header value: an encoded-word storm repeats a label thousands of times.
type mimeCharsetCache map[string]encoding.Encoding

func (c mimeCharsetCache) lookup(label string) encoding.Encoding {
	if enc, ok := c[label]; ok {
		return enc
	}
	enc := mimeEncoding(label)
	if len(c) < 16 {
		c[label] = enc
	}
	return enc
}

// mimeDecodeCharset converts b from the named charset to UTF-8. It never
// fails: bytes in an unknown charset are kept when they are valid UTF-8
// and read as Windows-1252 (a superset of Latin-1) otherwise; undecodable
// sequences become U+FFFD.
func mimeDecodeCharset(label string, b []byte) string {
	return mimeDecodeCharsetCached(nil, label, b)
}

// mimeDecodeCharsetCached is mimeDecodeCharset looking labels up in cache
// (nil: no cache).
func mimeDecodeCharsetCached(cache mimeCharsetCache, label string, b []byte) string {
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
	var enc encoding.Encoding
	if cache != nil {
		enc = cache.lookup(label)
	} else {
		enc = mimeEncoding(label)
	}
	if enc == nil {
		if utf8.Valid(b) {
			return string(b)
		}
		return mimeWindows1252(b)
	}
	if out, err := enc.NewDecoder().Bytes(b); err == nil {
		return strings.ToValidUTF8(string(out), "\uFFFD")
	}
	// A decoding error: keep what a stream decodes before it, as
	// mail readers do.
	out, err := io.ReadAll(enc.NewDecoder().Reader(bytes.NewReader(b)))
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

// reader adapts mimeDecodeCharset for mime.WordDecoder.CharsetReader.
func (c mimeCharsetCache) reader(label string, r io.Reader) (io.Reader, error) {
	var b []byte
	if br, ok := r.(*bytes.Reader); ok { // what mime.WordDecoder passes
		b = make([]byte, br.Len())
		br.Read(b)
	} else {
		var err error
		if b, err = io.ReadAll(r); err != nil {
			return nil, err
		}
	}
	return strings.NewReader(mimeDecodeCharsetCached(c, label, b)), nil
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

// mimeDecodedBound is an upper bound of the decoded size of body, so that
// a decoding buffer can be allocated once: four base64 characters make at
// most three bytes, and quoted-printable never grows.
func mimeDecodedBound(enc string, body []byte) int64 {
	if enc == "base64" {
		return (int64(len(body))*3 + 3) / 4
	}
	return int64(len(body))
}

// mimeDecodeLimited decodes body into a new buffer of at most max bytes and
// reports whether it had more. The buffer is sized from mimeDecodedBound,
// so it is allocated once and never regrown; a full buffer is the end of
// the body, or, at max+1 bytes, the sign that it was cut.
func mimeDecodeLimited(enc string, body []byte, max int64) ([]byte, bool) {
	r := mimeTransferReader(enc, body)
	buf := make([]byte, 0, min(mimeDecodedBound(enc, body), max+1))
	for len(buf) < cap(buf) {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			break
		}
	}
	if int64(len(buf)) > max {
		return buf[:max], true
	}
	return buf, false
}

// mimeBase64Reader decodes base64 leniently: bytes outside the alphabet
// (line noise, stray punctuation) are skipped, padding ends a quantum
// wherever it appears (blobs pasted one after another), the URL-safe
// alphabet is accepted, and a cut-off last quantum yields what it can.
// It decodes straight into the caller's buffer: only the (at most two)
// bytes of a quantum that did not fit wait in out, so a large body is
// decoded without allocating.
type mimeBase64Reader struct {
	src   []byte
	quad  [4]byte
	nq    int
	out   [3]byte // decoded bytes not yet returned: out[outAt:outN]
	outN  int
	outAt int
}

func (r *mimeBase64Reader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if r.outAt < r.outN {
			c := copy(p[n:], r.out[r.outAt:r.outN])
			n += c
			r.outAt += c
			continue
		}
		if len(r.src) == 0 {
			if r.nq == 0 {
				break
			}
			r.flush()
			continue
		}
		// Fast path: whole quanta of plain alphabet characters (a full
		// base64 line) decode in one call.
		if r.nq == 0 && len(p)-n >= 3 {
			run := mimeBase64Run(r.src, (len(p)-n)/3*4)
			if run >= 4 {
				run -= run % 4
				d, _ := base64.StdEncoding.Decode(p[n:], r.src[:run])
				n += d
				r.src = r.src[run:]
				continue
			}
		}
		c := r.src[0]
		r.src = r.src[1:]
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
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// mimeBase64Run returns how many bytes at the start of b, up to max, are
// in the standard base64 alphabet (no padding, no noise).
func mimeBase64Run(b []byte, max int) int {
	if len(b) > max {
		b = b[:max]
	}
	for i, c := range b {
		if !mimeBase64Std[c] {
			return i
		}
	}
	return len(b)
}

// mimeBase64Std marks the standard base64 alphabet (a table: the run scan
// is the decoder's inner loop).
var mimeBase64Std = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") {
		t[c] = true
	}
	return t
}()

// flush decodes the quantum collected so far into out; a single leftover
// character carries no whole byte and is dropped.
func (r *mimeBase64Reader) flush() {
	r.outN, r.outAt = 0, 0
	if r.nq >= 2 {
		r.outN, _ = base64.RawStdEncoding.Decode(r.out[:], r.quad[:r.nq])
	}
	r.nq = 0
}

// mimeQPReader decodes quoted-printable line by line, leniently: an '='
// not followed by two hex digits stays literal, trailing white space is
// dropped, and a soft line break ("=" at the end of a line) joins lines.
type mimeQPReader struct {
	src     []byte
	buf     []byte // reused for each line
	pending []byte // what is left of buf to return
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
		r.buf = mimeQPLine(r.buf[:0], line)
		r.pending = r.buf
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

// mimeBodyString turns a decoded text body into what Parsed.Text and HTML
// hold: UTF-8, "\n" line endings, no control characters mimeClean removes.
// A body that is valid UTF-8 already (the common case) is copied once.
func mimeBodyString(label string, data []byte) string {
	if mimeIsUTF8Label(mimeCharsetLabel(label)) && utf8.Valid(data) {
		return mimeCleanLines(data)
	}
	s := mimeClean(mimeDecodeCharset(label, data))
	if !strings.Contains(s, "\r") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// mimeCleanLines is mimeClean followed by turning "\r\n" and lone "\r"
// into "\n", in one copy; b must be valid UTF-8 (the bytes it drops then
// never belong to a multi-byte character).
func mimeCleanLines(b []byte) string {
	var out strings.Builder
	out.Grow(len(b))
	cr := false // the last byte kept was a '\r', already written as '\n'
	for len(b) > 0 {
		i := 0
		for i < len(b) && !mimeIsBadLineByte(b[i]) {
			i++
		}
		if i > 0 {
			out.Write(b[:i])
			cr = false
			b = b[i:]
			continue
		}
		switch c := b[0]; {
		case c == '\r':
			out.WriteByte('\n')
			cr = true
		case c == '\n':
			if !cr {
				out.WriteByte('\n')
			}
			cr = false
		}
		// other control characters are dropped; a '\r' before one
		// still pairs with a '\n' after it, as when mimeClean ran first
		b = b[1:]
	}
	return out.String()
}

// mimeIsBadLineByte reports the bytes mimeCleanLines rewrites or drops.
func mimeIsBadLineByte(c byte) bool {
	return c == '\r' || c == '\n' || mimeIsBadControl(rune(c))
}
