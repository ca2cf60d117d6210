package mailbox_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/recoverydesk/recoverydesk/mailbox"
)

// fuzzAttachmentLimit is small so that the fuzzer reaches the dropping path.
const fuzzAttachmentLimit = 4096

// FuzzParse feeds arbitrary bytes to Parse: it must not panic, must keep
// within the attachment limit across nested messages, and must hand back
// valid UTF-8 without NUL bytes (PostgreSQL text refuses them).
func FuzzParse(f *testing.F) {
	for _, path := range parseFixtures(f) {
		raw, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := mailbox.Parse(raw, mailbox.ParseOptions{MaxAttachmentBytes: fuzzAttachmentLimit, MaxBodyBytes: 1 << 16})
		if err != nil {
			if p != nil {
				t.Fatal("error with a result")
			}
			return
		}
		if kept := fuzzCheckParsed(t, p, 0); kept > fuzzAttachmentLimit {
			t.Fatalf("kept %d attachment bytes, limit %d", kept, fuzzAttachmentLimit)
		}
	})
}

func fuzzCheckParsed(t *testing.T, p *mailbox.Parsed, depth int) int64 {
	if depth > 5 {
		t.Fatalf("nested deeper than 5")
	}
	for _, s := range []string{p.Subject, p.Text, p.HTML, p.From.Name, p.From.Address, p.MessageID, p.InReplyTo} {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			t.Fatalf("invalid text %q", s)
		}
	}
	for _, f := range p.Headers {
		if !utf8.ValidString(f.Raw) || !utf8.ValidString(f.Value) || strings.ContainsRune(f.Value, 0) {
			t.Fatalf("invalid header %q", f)
		}
	}
	var kept int64
	for _, a := range p.Attachments {
		sum := sha256.Sum256(a.Data)
		if int64(len(a.Data)) != a.Size || hex.EncodeToString(sum[:]) != a.SHA256 {
			t.Fatalf("attachment %q: size %d, data %d, hash mismatch", a.Filename, a.Size, len(a.Data))
		}
		kept += a.Size
	}
	for _, n := range p.Nested {
		kept += fuzzCheckParsed(t, n, depth+1)
	}
	return kept
}

// FuzzParseMessageIDList checks that every returned ID is non-empty, free
// of white space and brackets, unique, already normalised, and that at most
// 100 come back.
func FuzzParseMessageIDList(f *testing.F) {
	for _, s := range []string{"<a@x> <b@y>", "a@x, <b@Y>", "(c <d@e>) <f@g", "<<>>", "Your message <id@h> of today", "<\xff@\xfe>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids := mailbox.ParseMessageIDList(s)
		if len(ids) > 100 {
			t.Fatalf("%d IDs", len(ids))
		}
		seen := map[string]bool{}
		for _, id := range ids {
			if id == "" || strings.ContainsAny(id, " \t\r\n<>") || !strings.Contains(id, "@") || seen[id] {
				t.Fatalf("bad ID %q in %q", id, ids)
			}
			if n := mailbox.NormalizeMessageID(id); n != id {
				t.Fatalf("NormalizeMessageID(%q) = %q, not stable", id, n)
			}
			seen[id] = true
		}
	})
}
