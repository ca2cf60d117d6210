package mailbox

import (
	"errors"
	"fmt"
	"net/mail"
	"runtime"
	"strings"
	"testing"
)

// These tests feed Parse the structures a hostile sender builds to exhaust
// a MIME parser and check that it stays within its limits (parse.go), says
// what it cut, and still reads what came before the cut.

const hostileHeader = "From: mallory@example.org\r\nTo: help@recoverydesk.test\r\nSubject: hostile\r\n" +
	"Message-ID: <hostile@example.org>\r\nMIME-Version: 1.0\r\n"

// hostileParse parses raw with the default options and returns the result,
// the error and the bytes allocated meanwhile (TotalAlloc; the package's
// concurrent tests are t.Parallel and never run beside these).
func hostileParse(t *testing.T, raw string) (*Parsed, error, uint64) {
	t.Helper()
	b := []byte(raw)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p, err := Parse(b, ParseOptions{})
	runtime.ReadMemStats(&after)
	return p, err, after.TotalAlloc - before.TotalAlloc
}

// hostileDropped returns the Dropped reason that contains substr, or "".
func hostileDropped(p *Parsed, substr string) string {
	for _, d := range p.Dropped {
		if strings.Contains(d.Reason, substr) {
			return d.Reason
		}
	}
	return ""
}

func hostileWarned(p *Parsed, substr string) bool {
	for _, w := range p.Warnings {
		if strings.Contains(w, substr) {
			return true
		}
	}
	return false
}

// TestParseHostileManyParts: of a 10,000-part multipart, the first parts
// up to maxMIMEParts are read, the rest are counted in one Dropped entry,
// and memory stays within a small multiple of the message.
func TestParseHostileManyParts(t *testing.T) {
	const n = 10000
	var b strings.Builder
	b.WriteString(hostileHeader + "Content-Type: multipart/mixed; boundary=\"P\"\r\n\r\n")
	for i := range n {
		fmt.Fprintf(&b, "--P\r\nContent-Type: text/plain\r\n\r\npart %d.\r\n", i)
	}
	b.WriteString("--P--\r\n")
	p, err, allocated := hostileParse(t, b.String())
	if err != nil {
		t.Fatal(err)
	}
	// The multipart itself is one of the maxMIMEParts entities walked.
	walked := maxMIMEParts - 1
	if !strings.HasPrefix(p.Text, "part 0.\n") || !strings.Contains(p.Text, fmt.Sprintf("part %d.", walked-1)) ||
		strings.Contains(p.Text, fmt.Sprintf("part %d.", walked)) {
		t.Errorf("text does not hold exactly the first %d parts: %d bytes, ends %q", walked, len(p.Text), p.Text[max(0, len(p.Text)-40):])
	}
	want := fmt.Sprintf("more than %d MIME parts: %d more were skipped", maxMIMEParts, n-walked)
	if hostileDropped(p, want) == "" {
		t.Errorf("Dropped %+v lacks %q", p.Dropped, want)
	}
	if hostileWarned(p, "closing boundary") {
		t.Errorf("a closed multipart cut at the limit is reported as unclosed: %q", p.Warnings)
	}
	if limit := uint64(4 * b.Len()); allocated > limit {
		t.Errorf("parsing %d bytes allocated %d, want at most %d", b.Len(), allocated, limit)
	}
}

// TestParseHostileManyAttachments: past maxMIMEParts, attachments are not
// decoded either (each would cost a hash over its bytes).
func TestParseHostileManyAttachments(t *testing.T) {
	var b strings.Builder
	b.WriteString(hostileHeader + "Content-Type: multipart/mixed; boundary=\"A\"\r\n\r\n--A\r\n\r\nSee attached.\r\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "--A\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"%d.png\"\r\n"+
			"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n", i)
	}
	b.WriteString("--A--\r\n")
	p, err, allocated := hostileParse(t, b.String())
	if err != nil {
		t.Fatal(err)
	}
	if p.Text != "See attached." || len(p.Attachments) != maxMIMEParts-2 || p.Attachments[0].Filename != "0.png" {
		t.Errorf("text %q, %d attachments", p.Text, len(p.Attachments))
	}
	if hostileDropped(p, fmt.Sprintf("%d more were skipped", 5000-(maxMIMEParts-2))) == "" {
		t.Errorf("Dropped %+v", p.Dropped[len(p.Dropped)-1:])
	}
	if limit := uint64(4 * b.Len()); allocated > limit {
		t.Errorf("parsing %d bytes allocated %d, want at most %d", b.Len(), allocated, limit)
	}
}

// hostileNested builds multiparts nested depth deep, each with its own
// boundary, a text part at the top and another at the bottom.
func hostileNested(depth int) string {
	var b strings.Builder
	b.WriteString(hostileHeader + "Content-Type: multipart/mixed; boundary=\"N0\"\r\n\r\n" +
		"--N0\r\nContent-Type: text/plain\r\n\r\nText at the top.\r\n")
	for i := range depth {
		fmt.Fprintf(&b, "--N%d\r\nContent-Type: multipart/mixed; boundary=\"N%d\"\r\n\r\n", i, i+1)
	}
	fmt.Fprintf(&b, "--N%d\r\nContent-Type: text/plain\r\n\r\nText at the bottom.\r\n", depth)
	for i := depth; i >= 0; i-- {
		fmt.Fprintf(&b, "--N%d--\r\n", i)
	}
	return b.String()
}

// TestParseHostileDeepNesting: multiparts nested 100 and 10,000 deep are
// read down to maxMIMEDepth; what is below is skipped and said so once.
// The walk recurses per level, so the limit also keeps the stack small,
// and each level rescans its body for its boundary, so it bounds the work
// (and the allocations) to a fixed multiple of the message.
func TestParseHostileDeepNesting(t *testing.T) {
	for _, depth := range []int{maxMIMEDepth - 3, 100, 10000} {
		t.Run(fmt.Sprint(depth), func(t *testing.T) {
			raw := hostileNested(depth)
			p, err, allocated := hostileParse(t, raw)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(p.Text, "Text at the top.") {
				t.Errorf("Text %q", p.Text)
			}
			reason := hostileDropped(p, fmt.Sprintf("nested more than %d deep", maxMIMEDepth))
			if deep := depth > maxMIMEDepth; deep != (reason != "") || deep == strings.Contains(p.Text, "Text at the bottom.") {
				t.Errorf("depth %d: Text %q, Dropped %+v", depth, p.Text, p.Dropped)
			}
			if limit := uint64(4*len(raw)) + 64<<10; allocated > limit {
				t.Errorf("parsing %d bytes allocated %d, want at most %d", len(raw), allocated, limit)
			}
		})
	}
}

// TestParseHostileDeepSameBoundary: nesting that reuses one boundary is
// read as 10,000 siblings, so the part limit applies.
func TestParseHostileDeepSameBoundary(t *testing.T) {
	var b strings.Builder
	b.WriteString(hostileHeader + "Content-Type: multipart/mixed; boundary=\"S\"\r\n\r\n--S\r\n\r\nFirst.\r\n")
	for range 10000 {
		b.WriteString("--S\r\nContent-Type: multipart/mixed; boundary=\"S\"\r\n\r\n")
	}
	b.WriteString("--S--\r\n")
	p, err, allocated := hostileParse(t, b.String())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Text, "First.") || hostileDropped(p, "MIME parts: ") == "" {
		t.Errorf("Text %q, Dropped %+v", p.Text[:min(len(p.Text), 40)], p.Dropped)
	}
	if limit := uint64(4 * b.Len()); allocated > limit {
		t.Errorf("parsing %d bytes allocated %d, want at most %d", b.Len(), allocated, limit)
	}
}

// TestParseHostileDeepMessages: message/rfc822 inside message/rfc822
// 10,000 deep is parsed into Nested down to maxNestedMessages levels; the
// level below is kept as an attachment (within the attachment limit).
func TestParseHostileDeepMessages(t *testing.T) {
	var b strings.Builder
	b.WriteString(hostileHeader + "Content-Type: message/rfc822\r\n\r\n")
	for i := range 10000 {
		fmt.Fprintf(&b, "Subject: level %d\r\nContent-Type: message/rfc822\r\n\r\n", i+1)
	}
	b.WriteString("Subject: bottom\r\n\r\nThe bottom.\r\n")
	p, err, allocated := hostileParse(t, b.String())
	if err != nil {
		t.Fatal(err)
	}
	levels := 0
	for n := p; len(n.Nested) > 0; n = n.Nested[0] {
		levels++
		if len(n.Nested) != 1 || n.Nested[0].Subject != fmt.Sprintf("level %d", levels) {
			t.Fatalf("level %d: %d nested, subject %q", levels, len(n.Nested), n.Nested[0].Subject)
		}
		if levels == maxNestedMessages && len(n.Nested[0].Attachments) != 1 {
			t.Errorf("the last nested level has %d attachments, want the rest as one", len(n.Nested[0].Attachments))
		}
	}
	if levels != maxNestedMessages {
		t.Errorf("%d nested levels, want %d", levels, maxNestedMessages)
	}
	if limit := uint64(4 * b.Len()); allocated > limit {
		t.Errorf("parsing %d bytes allocated %d, want at most %d", b.Len(), allocated, limit)
	}
}

// TestParseHostileHeaderBytes: a header section over maxHeaderBytes (one
// 1 MiB line) is refused with ErrTooLarge, wherever the line is; in a MIME
// part it makes only that part skipped.
func TestParseHostileHeaderBytes(t *testing.T) {
	long := "X-Junk: " + strings.Repeat("a", 1<<20) + "\r\n"
	for name, raw := range map[string]string{
		"first":            long + hostileHeader + "\r\nbody\r\n",
		"middle":           hostileHeader + long + "\r\nbody\r\n",
		"last, no body":    hostileHeader + long,
		"folded over 1MiB": hostileHeader + "X-Folded: a\r\n" + strings.Repeat(" "+strings.Repeat("b", 1000)+"\r\n", 1100) + "\r\nbody\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			p, err, allocated := hostileParse(t, raw)
			if !errors.Is(err, ErrTooLarge) || p != nil {
				t.Fatalf("err %v, want ErrTooLarge", err)
			}
			// Unfolding a 1 MiB field grows its value by appending.
			if limit := uint64(8 * len(raw)); allocated > limit {
				t.Errorf("refusing %d bytes allocated %d, want at most %d", len(raw), allocated, limit)
			}
		})
	}
	t.Run("in a part", func(t *testing.T) {
		raw := hostileHeader + "Content-Type: multipart/mixed; boundary=\"H\"\r\n\r\n" +
			"--H\r\nContent-Type: text/plain\r\n\r\nBefore.\r\n--H\r\n" + long + "\r\nhidden\r\n" +
			"--H\r\nContent-Type: text/plain\r\n\r\nAfter.\r\n--H--\r\n"
		p, err, _ := hostileParse(t, raw)
		if err != nil {
			t.Fatal(err)
		}
		if p.Text != "Before.\nAfter." || hostileDropped(p, fmt.Sprintf("1 MIME parts with a header over %d bytes", maxHeaderBytes)) == "" {
			t.Errorf("Text %q, Dropped %+v", p.Text, p.Dropped)
		}
	})
	t.Run("just under", func(t *testing.T) {
		// A long Subject that fits is read whole.
		subject := strings.Repeat("x", 1<<20-len(hostileHeader)-100)
		p, err, _ := hostileParse(t, "From: a@example.org\r\nSubject: "+subject+"\r\n\r\nbody\r\n")
		if err != nil || p.Subject != subject || p.Text != "body\n" {
			t.Fatalf("err %v, subject of %d bytes, text %q", err, len(p.Subject), p.Text)
		}
	})
}

// TestParseHostileManyFields: of 100,000 header fields (well within
// maxHeaderBytes) the first maxHeaderFields are kept, a warning counts the
// rest, and the body after them is still found.
func TestParseHostileManyFields(t *testing.T) {
	const n = 100000
	raw := hostileHeader + strings.Repeat("X-A: b\r\n", n) + "Subject: late\r\n folded\r\n\r\nThe body.\r\n"
	p, err, allocated := hostileParse(t, raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Headers) != maxHeaderFields || p.Subject != "hostile" || p.Text != "The body.\n" {
		t.Errorf("%d headers, Subject %q, Text %q", len(p.Headers), p.Subject, p.Text)
	}
	if last := p.Headers[maxHeaderFields-1]; last.Name != "X-A" || last.Raw != "b" {
		t.Errorf("last field kept %+v", last)
	}
	if want := fmt.Sprintf("%d header fields past the first %d were skipped", 5+n+1-maxHeaderFields, maxHeaderFields); !hostileWarned(p, want) {
		t.Errorf("Warnings %q lack %q", p.Warnings, want)
	}
	if limit := uint64(len(raw)); allocated > limit {
		t.Errorf("parsing %d bytes allocated %d, want at most %d", len(raw), allocated, limit)
	}
}

// TestParseHostileUnclosedBoundary: a multipart whose boundary never
// closes keeps its parts (the last runs to the end) and says so; one whose
// boundary never even appears is read as text.
func TestParseHostileUnclosedBoundary(t *testing.T) {
	filler := strings.Repeat("line\r\n", 100000)
	p, err, _ := hostileParse(t, hostileHeader+"Content-Type: multipart/mixed; boundary=\"U\"\r\n\r\n"+
		"--U\r\nContent-Type: text/plain\r\n\r\nFirst part.\r\n--U\r\nContent-Type: text/plain\r\n\r\nSecond part.\r\n"+filler)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Text, "First part.\nSecond part.\nline\n") || !hostileWarned(p, "ends without its closing boundary") {
		t.Errorf("Text %q..., Warnings %q", p.Text[:min(40, len(p.Text))], p.Warnings)
	}
	p, err, _ = hostileParse(t, hostileHeader+"Content-Type: multipart/mixed; boundary=\"U\"\r\n\r\nNo boundary at all.\r\n"+filler)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Text, "No boundary at all.\nline\n") || !hostileWarned(p, "without any part read as text") {
		t.Errorf("Text %q..., Warnings %q", p.Text[:min(40, len(p.Text))], p.Warnings)
	}
}

// TestParseHostileEncodedWords: a Subject of tens of thousands of encoded
// words, well-formed or broken, in any charset, is decoded in linear time
// and memory. (Each word in a charset other than UTF-8 or Latin-1 used to
// cost 8 KiB of decoder buffers: 380 MB for a 840 KB Subject.)
func TestParseHostileEncodedWords(t *testing.T) {
	cases := []struct {
		name, subject, want string
	}{
		{"utf-8", strings.Repeat("=?utf-8?q?a?= ", 70000), strings.Repeat("a", 70000)},
		{"latin-1", strings.Repeat("=?iso-8859-1?q?=E9?= ", 45000), strings.Repeat("é", 45000)},
		// Charsets mime.WordDecoder does not know itself go through
		// mimeCharsetCache.reader, once per word.
		{"windows-1252", strings.Repeat("=?windows-1252?q?=80?= ", 40000), strings.Repeat("€", 40000)},
		{"koi8-r", strings.Repeat("=?koi8-r?b?8A==?= ", 50000), strings.Repeat("П", 50000)},
		{"unknown charset", strings.Repeat("=?x-nonsense?b?YQ==?= ", 45000), strings.Repeat("a", 45000)},
		{"broken", strings.Repeat("=?a?q?", 150000) + "?=", ""},
		{"unterminated", strings.Repeat("=?utf-8?b?", 100000), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := "From: a@example.org\r\nTo: " + strings.Repeat("=?utf-8?q?b?= ", 1000) + "<b@example.org>\r\nSubject: " + c.subject + "\r\n\r\nbody\r\n"
			p, err, allocated := hostileParse(t, raw)
			if err != nil {
				t.Fatal(err)
			}
			if c.want != "" && p.Subject != c.want {
				t.Errorf("Subject of %d bytes, want %d", len(p.Subject), len(c.want))
			}
			if p.Subject == "" || p.Text != "body\n" || len(p.To) != 1 || p.To[0] != (mail.Address{Name: strings.Repeat("b", 1000), Address: "b@example.org"}) {
				t.Errorf("Subject of %d bytes, Text %q, %d To", len(p.Subject), p.Text, len(p.To))
			}
			if limit := uint64(20 * len(raw)); allocated > limit {
				t.Errorf("parsing %d bytes allocated %d, want at most %d", len(raw), allocated, limit)
			}
		})
	}
}

// TestParseHostileAddresses: To and Cc of 30,000 addresses, in one field
// or spread over many, keep maxAddresses each and say so; the rest of the
// field is not even parsed.
func TestParseHostileAddresses(t *testing.T) {
	addrs := strings.Repeat("a@example.org, ", 30000)
	for name, raw := range map[string]string{
		"one field":   "From: a@example.org\r\nTo: " + addrs + "\r\nCc: " + addrs + "\r\n\r\nbody\r\n",
		"many fields": "From: a@example.org\r\n" + strings.Repeat("To: a@example.org, b@example.org\r\n", 900) + "Cc: " + addrs + "\r\n\r\nbody\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			p, err, allocated := hostileParse(t, raw)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.To) != maxAddresses || len(p.Cc) != maxAddresses || p.To[maxAddresses-1].Address == "" || p.Text != "body\n" {
				t.Errorf("%d To, %d Cc, Text %q", len(p.To), len(p.Cc), p.Text)
			}
			for _, w := range []string{"To addresses past the first", "Cc addresses past the first"} {
				if !hostileWarned(p, w) {
					t.Errorf("Warnings %q lack %q", p.Warnings, w)
				}
			}
			if limit := uint64(4 * len(raw)); allocated > limit {
				t.Errorf("parsing %d bytes allocated %d, want at most %d", len(raw), allocated, limit)
			}
		})
	}
}
