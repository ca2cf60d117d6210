package mailbox_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/recoverydesk/recoverydesk/mailbox"
)

// parseAllocated parses raw once and returns the bytes allocated meanwhile
// (runtime.MemStats.TotalAlloc, which counts every allocation, freed or
// not, so it bounds the peak from above). The package's tests that could
// allocate concurrently are t.Parallel and so never run beside this one.
func parseAllocated(t *testing.T, raw []byte, o mailbox.ParseOptions) (*mailbox.Parsed, uint64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p, err := mailbox.Parse(raw, o)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	return p, after.TotalAlloc - before.TotalAlloc
}

// TestParseMemoryDroppedAttachment parses the 50 MiB message of
// BenchmarkParse, whose attachment is over DefaultMaxAttachmentBytes: it is
// hashed as a stream, so parsing allocates almost nothing beyond the input
// (the bound, 1/64 of the size, leaves room for the hashing buffer and the
// small parts; before the decoder was streamed it was 2.7 times the size).
func TestParseMemoryDroppedAttachment(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 50 MiB message")
	}
	raw := benchWithAttachment(50 << 20)
	p, allocated := parseAllocated(t, raw, mailbox.ParseOptions{})
	if len(p.Attachments) != 0 || len(p.Dropped) != 1 || p.Dropped[0].Size < 35<<20 || p.Text != "The file shows the error." {
		t.Fatalf("attachments %d, dropped %+v, text %q", len(p.Attachments), p.Dropped, p.Text)
	}
	if limit := uint64(len(raw)) / 64; allocated > limit {
		t.Errorf("parsing %d bytes allocated %d, want at most %d", len(raw), allocated, limit)
	}
	t.Logf("%d bytes parsed, %d allocated", len(raw), allocated)
}

// TestParseMemoryKeptAttachment parses a ~31 MiB message: a 4 MiB text body
// and a 20 MiB attachment (27 MiB in base64) that fits the attachment
// limit. What parsing must allocate is its result: the attachment's bytes
// and the text. The bound allows those plus 1 MiB (the base64 size bound
// overestimates by 2.6% for 76-character lines, and the header and
// envelope cost a little), which is well under the message's size: the
// input and the parse together stay within about twice the message.
func TestParseMemoryKeptAttachment(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 31 MiB message")
	}
	data := make([]byte, 20<<20)
	rand.NewChaCha8([32]byte{9}).Read(data)
	text := strings.Repeat("My phone is gone and with it the authenticator app; please help.\r\n", 4<<20/67)
	var m bytes.Buffer
	m.WriteString("From: alice@example.org\r\nTo: help@recoverydesk.test\r\nSubject: Backup codes\r\n" +
		"Message-ID: <mem-kept@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"MEM\"\r\n\r\n" +
		"--MEM\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text +
		"--MEM\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"codes.bin\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 0 {
		n := min(76, len(enc))
		m.WriteString(enc[:n] + "\r\n")
		enc = enc[n:]
	}
	m.WriteString("--MEM--\r\n")
	raw := m.Bytes()

	p, allocated := parseAllocated(t, raw, mailbox.ParseOptions{})
	sum := sha256.Sum256(data)
	if len(p.Attachments) != 1 || !bytes.Equal(p.Attachments[0].Data, data) || p.Attachments[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("attachment not kept intact: %d attachments, dropped %+v", len(p.Attachments), p.Dropped)
	}
	if want := strings.ReplaceAll(strings.TrimSuffix(text, "\r\n"), "\r\n", "\n"); p.Text != want {
		t.Fatalf("text of %d bytes, want %d", len(p.Text), len(want))
	}
	limit := uint64(len(data)+len(p.Text)) + 1<<20
	if allocated > limit || allocated > uint64(len(raw)) {
		t.Errorf("parsing %d bytes allocated %d, want at most %d (result) and under the input size", len(raw), allocated, limit)
	}
	t.Logf("%d bytes parsed, %d allocated for a result of %d", len(raw), allocated, len(data)+len(p.Text))
}
