package mailbox_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-message"

	"github.com/recoverydesk/recoverydesk/mailbox"
)

// bounceFixture is a hand-written bounce from testdata/bounce, split the
// way the parser will hand it over.
type bounceFixture struct {
	name      string
	header    message.Header
	dsn       []byte // the message/delivery-status part, nil if none
	original  []byte // message/rfc822 or text/rfc822-headers part
	text      string // the first text/plain part (or the whole body)
	subject   string
	from      string
	wantFile  string
	isNotDSN  bool
	notBounce bool
}

// loadBounceFixtures reads every .eml under testdata/bounce with
// go-message, picking out the parts of a multipart/report.
func loadBounceFixtures(tb testing.TB) []bounceFixture {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "bounce", "*.eml"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no bounce fixtures: %v", err)
	}
	var out []bounceFixture
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		e, err := message.Read(bytes.NewReader(raw))
		if err != nil {
			tb.Fatalf("%s: %v", p, err)
		}
		fx := bounceFixture{
			name:     strings.TrimSuffix(filepath.Base(p), ".eml"),
			header:   e.Header,
			wantFile: strings.TrimSuffix(p, ".eml") + ".want.json",
		}
		fx.subject, _ = e.Header.Text("Subject")
		fx.from = e.Header.Get("From")
		err = e.Walk(func(_ []int, part *message.Entity, err error) error {
			if err != nil {
				return err
			}
			mt, _, _ := part.Header.ContentType()
			if strings.HasPrefix(mt, "multipart/") {
				return nil
			}
			body, err := io.ReadAll(part.Body)
			if err != nil {
				return err
			}
			switch {
			case mt == "message/delivery-status":
				fx.dsn = body
			case mt == "message/rfc822" || mt == "text/rfc822-headers":
				fx.original = body
			case fx.text == "" && (mt == "text/plain" || mt == ""):
				fx.text = string(body)
			}
			return nil
		})
		if err != nil {
			tb.Fatalf("%s: walk: %v", p, err)
		}
		fx.isNotDSN = fx.dsn == nil
		out = append(out, fx)
	}
	return out
}

type bounceWant struct {
	mailbox.Bounce
	NotBounce bool
}

func TestBounceFixtures(t *testing.T) {
	t.Parallel()
	fixtures := loadBounceFixtures(t)
	if len(fixtures) < 8 {
		t.Fatalf("%d bounce fixtures, want at least 8", len(fixtures))
	}
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(fx.wantFile)
			if err != nil {
				t.Fatal(err)
			}
			var want bounceWant
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&want); err != nil {
				t.Fatalf("%s: %v", fx.wantFile, err)
			}

			class := mailbox.Classify(&fx.header.Header, "", mailbox.ClassifyOptions{Ours: []string{"support@recoverydesk.test"}})
			if class.NoAutoReply() == want.NotBounce {
				t.Errorf("Classify = %+v; NoAutoReply should be %v", class, !want.NotBounce)
			}

			var got mailbox.Bounce
			if fx.dsn != nil {
				if !class.Bounce {
					t.Errorf("Classify did not flag a multipart/report as Bounce: %+v", class)
				}
				got, err = mailbox.ParseDSN(fx.dsn, fx.original)
				if err != nil {
					t.Fatalf("ParseDSN: %v", err)
				}
			} else {
				var ok bool
				got, ok = mailbox.ParseNonStandardBounce(fx.subject, fx.from, fx.text)
				if ok == want.NotBounce {
					t.Fatalf("ParseNonStandardBounce ok = %v, want %v (got %+v)", ok, !want.NotBounce, got)
				}
				if !ok {
					return
				}
			}
			if got != want.Bounce {
				t.Errorf("bounce mismatch\n got  %+v\n want %+v", got, want.Bounce)
			}
		})
	}
}

// TestParseNonStandardBounceRejects checks ordinary mail is not a bounce.
func TestParseNonStandardBounceRejects(t *testing.T) {
	t.Parallel()
	tests := []struct{ subject, from, body string }{
		{"Lost my phone", "Ada <ada@example.org>", "Hi, I lost my 2FA device. My mail to you came back undeliverable once."},
		{"Undeliverable: hello", "Bob <bob@example.org>", "Funny subject, I know."},
		{"Re: [RD-7K3F9Q] status", "noreply@github.com", "Your pull request was merged."},
		{"", "", ""},
		// Found by fuzzing (it panicked): invalid UTF-8 before a separator.
		{"0", "x@example.org", "\x83------ This is a copy of the message, including all the headers. ------"},
	}
	for _, tt := range tests {
		if b, ok := mailbox.ParseNonStandardBounce(tt.subject, tt.from, tt.body); ok {
			t.Errorf("ParseNonStandardBounce(%q, %q) = %+v, true; want false", tt.subject, tt.from, b)
		}
	}
}

func TestParseDSNEdgeCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		ds, orig string
		want     mailbox.Bounce
		wantErr  bool
	}{
		{name: "empty", ds: "", wantErr: true},
		{name: "per-message only", ds: "Reporting-MTA: dns; mx.example.net\n\n", wantErr: true},
		{
			name: "crlf and no blank line before recipient, status from diagnostic",
			ds:   "Reporting-MTA: dns; a.example\r\n\r\nFinal-Recipient: rfc822; <x@b.example>\r\nAction: FAILED\r\nDiagnostic-Code: smtp;\r\n 554 5.7.1 Rejected by policy\r\n",
			orig: "Message-ID: <id-1@recoverydesk.test>\r\nSubject: hi\r\n\r\nbody\r\n",
			want: mailbox.Bounce{OriginalMessageID: "id-1@recoverydesk.test", Recipient: "x@b.example", Status: "5.7.1", Action: "failed", Diagnostic: "554 5.7.1 Rejected by policy", Permanent: true},
		},
		{
			name: "no action, permanent status",
			ds:   "Final-Recipient: rfc822;y@c.example\nStatus: 5.0.0 (permanent failure)\n",
			want: mailbox.Bounce{Recipient: "y@c.example", Status: "5.0.0", Permanent: true},
		},
		{
			name: "ip address is no status",
			ds:   "Final-Recipient: rfc822;z@d.example\nAction: delayed\nDiagnostic-Code: X-Postfix; connect to 5.1.1.7[5.1.1.7]:25: timed out\n",
			want: mailbox.Bounce{Recipient: "z@d.example", Action: "delayed", Diagnostic: "connect to 5.1.1.7[5.1.1.7]:25: timed out"},
		},
		{
			name: "success report",
			ds:   "Final-Recipient: rfc822;w@e.example\nAction: delivered\nStatus: 2.0.0\n",
			want: mailbox.Bounce{Recipient: "w@e.example", Action: "delivered", Status: "2.0.0"},
		},
		{
			name: "original body lines are not headers",
			ds:   "Final-Recipient: rfc822;v@f.example\nAction: failed\nStatus: 5.1.1\n",
			orig: "Subject: no id here\n\nMessage-ID: <in-body@example.invalid>\n",
			want: mailbox.Bounce{Recipient: "v@f.example", Action: "failed", Status: "5.1.1", Permanent: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var orig []byte
			if tt.orig != "" {
				orig = []byte(tt.orig)
			}
			got, err := mailbox.ParseDSN([]byte(tt.ds), orig)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseDSN = %+v, nil; want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDSN: %v", err)
			}
			if got != tt.want {
				t.Errorf("ParseDSN\n got  %+v\n want %+v", got, tt.want)
			}
		})
	}
}

// FuzzParseDSN feeds delivery-status and original-header parts (seeded
// from the fixtures' reports) to ParseDSN: it must never panic, a status it
// returns is well-formed, and an error comes with a zero Bounce.
func FuzzParseDSN(f *testing.F) {
	for _, fx := range loadBounceFixtures(f) {
		if fx.dsn != nil {
			f.Add(fx.dsn, fx.original)
		}
	}
	f.Add([]byte("Final-Recipient: rfc822;\n\tAction: failed\n"), []byte(nil))
	f.Fuzz(func(t *testing.T, ds, orig []byte) {
		b, err := mailbox.ParseDSN(ds, orig)
		if err != nil {
			if b != (mailbox.Bounce{}) {
				t.Errorf("ParseDSN returned %+v with error %v", b, err)
			}
			return
		}
		if b.Status != "" && !strings.ContainsAny(b.Status[:1], "245") {
			t.Errorf("ParseDSN status %q", b.Status)
		}
		if b.Permanent && b.Action != "failed" && b.Action != "" {
			t.Errorf("ParseDSN: Permanent with Action %q", b.Action)
		}
	})
}

// FuzzParseNonStandardBounce feeds notice texts and subjects (seeded from
// the fixtures without a report) to ParseNonStandardBounce: it must never
// panic, and what it recognises is a failure or a delay.
func FuzzParseNonStandardBounce(f *testing.F) {
	for _, fx := range loadBounceFixtures(f) {
		if fx.dsn == nil {
			f.Add(fx.subject, fx.from, fx.text)
		}
	}
	// Found by fuzzing: invalid UTF-8 before a separator once made
	// splitReturned slice out of range.
	f.Add("0", "MAILER-DAEMON@example.net", "\x83------ This is a copy of the message, including all the headers. ------")
	f.Fuzz(func(t *testing.T, subject, from, body string) {
		b, ok := mailbox.ParseNonStandardBounce(subject, from, body)
		if !ok {
			if b != (mailbox.Bounce{}) {
				t.Errorf("not a bounce, yet %+v", b)
			}
			return
		}
		if (b.Action == "failed") != b.Permanent || (b.Action != "failed" && b.Action != "delayed") {
			t.Errorf("Action %q with Permanent %v", b.Action, b.Permanent)
		}
	})
}
