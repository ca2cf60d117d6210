package mailbox_test

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/mailbox"
)

// BenchmarkParse parses messages by size. MB/s is over the raw message;
// B/op is what parsing allocates on top of the raw bytes it is handed, which
// shows whether large attachments are streamed (issue 7 asks that a 50 MiB
// message need at most about twice its size in memory, the raw copy
// included). The attachment sizes are the whole message's size; the 50 MiB
// one is over DefaultMaxAttachmentBytes, so it is hashed and dropped.
func BenchmarkParse(b *testing.B) {
	cases := []struct {
		name string
		raw  func(testing.TB) []byte
	}{
		{"1KiB_plain", func(tb testing.TB) []byte { return benchComposed(tb, 1<<10, false) }},
		{"64KiB_alternative", func(tb testing.TB) []byte { return benchComposed(tb, 64<<10, true) }},
		{"1MiB_attachment", func(testing.TB) []byte { return benchWithAttachment(1 << 20) }},
		{"10MiB_attachment", func(testing.TB) []byte { return benchWithAttachment(10 << 20) }},
		{"50MiB_attachment", func(testing.TB) []byte { return benchWithAttachment(50 << 20) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			raw := c.raw(b)
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := mailbox.Parse(raw, mailbox.ParseOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchComposed composes a message of about size bytes with the package's
// own composer: plain text, or text plus an HTML alternative of equal size.
func benchComposed(tb testing.TB, size int, html bool) []byte {
	tb.Helper()
	o := mailbox.Outgoing{
		From:    mail.Address{Name: "Alice Example", Address: "alice@example.org"},
		To:      mail.Address{Address: "help@recoverydesk.test"},
		Subject: "I cannot sign in to my account",
		Date:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	line := "Hello, I lost my phone with the authenticator app and cannot sign in any more.\n"
	if !html {
		o.Text = strings.Repeat(line, max(1, (size-400)/len(line)))
	} else {
		half := (size - 800) / 2
		o.Text = strings.Repeat(line, half/len(line))
		o.HTML = "<html><body>" + strings.Repeat("<p>"+strings.TrimSpace(line)+" <a href=\"https://example.org/x\">link</a></p>\n", half/120) + "</body></html>"
	}
	raw, err := mailbox.Compose(o)
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// benchWithAttachment builds a multipart/mixed message of about size bytes:
// a short text part and one base64 attachment of incompressible bytes.
func benchWithAttachment(size int) []byte {
	data := make([]byte, (size-1024)/78*57) // 57 bytes per 76-character base64 line
	rand.NewChaCha8([32]byte{7}).Read(data)
	var m bytes.Buffer
	m.Grow(size)
	m.WriteString("From: Alice Example <alice@example.org>\r\nTo: help@recoverydesk.test\r\n" +
		"Subject: Screenshot of the error\r\nDate: Fri, 02 Jan 2026 03:04:05 +0000\r\n" +
		"Message-ID: <bench-attachment@example.org>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"BENCH\"\r\n\r\n" +
		"--BENCH\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe file shows the error.\r\n" +
		"--BENCH\r\nContent-Type: application/octet-stream\r\n" +
		"Content-Disposition: attachment; filename=\"capture.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	line := make([]byte, 76)
	for len(data) > 0 {
		n := min(57, len(data))
		base64.StdEncoding.Encode(line, data[:n])
		m.Write(line[:base64.StdEncoding.EncodedLen(n)])
		m.WriteString("\r\n")
		data = data[n:]
	}
	m.WriteString("--BENCH--\r\n")
	return m.Bytes()
}
