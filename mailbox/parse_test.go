package mailbox_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/recoverydesk/recoverydesk/mailbox"
)

// The -update flag rewrites the golden files; another test file of the
// package may already define it, so register it only once.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func parseUpdating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

const parseFixtureDir = "testdata/parse"

// parseGolden is what a fixture's NAME.golden.json records: the fields the
// desk relies on, with long values cut so the files stay reviewable.
type parseGolden struct {
	Error          string              `json:"error,omitempty"`
	MessageID      string              `json:"messageId,omitempty"`
	InReplyTo      string              `json:"inReplyTo,omitempty"`
	References     []string            `json:"references,omitempty"`
	From           string              `json:"from,omitempty"`
	ReplyTo        []string            `json:"replyTo,omitempty"`
	To             []string            `json:"to,omitempty"`
	ToCount        int                 `json:"toCount,omitempty"`
	Cc             []string            `json:"cc,omitempty"`
	Subject        string              `json:"subject,omitempty"`
	Date           string              `json:"date,omitempty"`
	Hygiene        map[string][]string `json:"hygiene,omitempty"`
	Text           string              `json:"text,omitempty"`
	TextLen        int                 `json:"textLen,omitempty"`
	HTML           string              `json:"html,omitempty"`
	Attachments    []parseGoldenFile   `json:"attachments,omitempty"`
	Dropped        []parseGoldenFile   `json:"dropped,omitempty"`
	Nested         []parseGolden       `json:"nested,omitempty"`
	ReportType     string              `json:"reportType,omitempty"`
	DeliveryStatus string              `json:"deliveryStatus,omitempty"`
	Warnings       []string            `json:"warnings,omitempty"`
}

type parseGoldenFile struct {
	Filename    string `json:"filename"`
	ContentType string `json:"contentType,omitempty"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256,omitempty"`
	Inline      bool   `json:"inline,omitempty"`
	ContentID   string `json:"contentId,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// parseHygieneFields are the fields the hygiene rules read.
var parseHygieneFields = []string{"Auto-Submitted", "Precedence", "X-Autoreply",
	"X-Auto-Response-Suppress", "X-Loop", "Return-Path", "List-Id", "Content-Type"}

func parseGoldenOf(p *mailbox.Parsed) parseGolden {
	g := parseGolden{
		MessageID: p.MessageID, InReplyTo: p.InReplyTo, References: p.References,
		From: parseAddr(p.From), Subject: parseCut(p.Subject, 200),
		ReplyTo: parseAddrs(p.ReplyTo), Cc: parseAddrs(p.Cc),
		Text: parseCut(p.Text, 400), HTML: parseCut(p.HTML, 200),
		ReportType: p.ReportType, DeliveryStatus: parseCut(string(p.DeliveryStatus), 120),
		Warnings: p.Warnings,
	}
	if utf8.RuneCountInString(p.Text) > 400 {
		g.TextLen = utf8.RuneCountInString(p.Text)
	}
	g.To = parseAddrs(p.To)
	if len(g.To) > 5 {
		g.To, g.ToCount = g.To[:5], len(p.To)
	}
	if !p.Date.IsZero() {
		g.Date = p.Date.Format(time.RFC3339)
	}
	for _, name := range parseHygieneFields {
		if v := p.Values(name); v != nil {
			if g.Hygiene == nil {
				g.Hygiene = map[string][]string{}
			}
			g.Hygiene[name] = v
		}
	}
	for _, a := range p.Attachments {
		g.Attachments = append(g.Attachments, parseGoldenFile{Filename: a.Filename, ContentType: a.ContentType,
			Size: a.Size, SHA256: a.SHA256, Inline: a.Inline, ContentID: a.ContentID})
	}
	for _, d := range p.Dropped {
		g.Dropped = append(g.Dropped, parseGoldenFile{Filename: d.Filename, ContentType: d.ContentType,
			Size: d.Size, SHA256: d.SHA256, Reason: d.Reason})
	}
	for _, n := range p.Nested {
		g.Nested = append(g.Nested, parseGoldenOf(n))
	}
	return g
}

func parseAddr(a mail.Address) string {
	switch {
	case a.Address == "" && a.Name == "":
		return ""
	case a.Name == "":
		return a.Address
	}
	return a.Name + " <" + a.Address + ">"
}

func parseAddrs(l []mail.Address) []string {
	var out []string
	for _, a := range l {
		out = append(out, parseAddr(a))
	}
	return out
}

func parseCut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

func parseFixtures(t testing.TB) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(parseFixtureDir, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 40 {
		t.Fatalf("%d fixtures in %s, want at least 40", len(names), parseFixtureDir)
	}
	return names
}

// TestParseFixtures compares every fixture's parse with its golden file
// (go test -run TestParseFixtures -update ./mailbox/ rewrites them).
func TestParseFixtures(t *testing.T) {
	for _, path := range parseFixtures(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".eml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var g parseGolden
			p, err := mailbox.Parse(raw, mailbox.ParseOptions{})
			if err != nil {
				g.Error = err.Error()
			} else {
				g = parseGoldenOf(p)
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(g); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			goldenPath := filepath.Join(parseFixtureDir, name+".golden.json")
			if parseUpdating() {
				if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("parse differs from %s:\n--- got\n%s\n--- want\n%s", goldenPath, got, want)
			}
		})
	}
}

// TestParseBehaviour pins, independently of the golden files, the results
// that matter most, so a careless -update cannot bless a regression.
func TestParseBehaviour(t *testing.T) {
	cases := []struct {
		fixture     string
		wantErr     bool
		subject     string
		textHas     []string
		htmlHas     string
		attachments []string // file names, in order
		nested      int
		check       func(t *testing.T, p *mailbox.Parsed)
	}{
		{fixture: "binary-garbage", wantErr: true},
		{fixture: "not-a-message", wantErr: true},
		{fixture: "plain-ascii", subject: "Lost my 2FA device", textHas: []string{"My username is alice.\n"},
			check: func(t *testing.T, p *mailbox.Parsed) {
				if p.MessageID != "plain.1@mail.example.org" || strings.Contains(p.Text, "\r") {
					t.Errorf("MessageID %q, text %q", p.MessageID, p.Text)
				}
			}},
		{fixture: "charset-iso-8859-1", subject: "Café", textHas: []string{"naïve façade"}},
		{fixture: "charset-iso-8859-2", textHas: []string{"Zażółć gęślą jaźń"}},
		{fixture: "charset-iso-8859-15", subject: "Prix en €", textHas: []string{"100 €", "œuvre"}},
		{fixture: "charset-windows-1251", textHas: []string{"Здравствуйте"}},
		{fixture: "charset-windows-1252", textHas: []string{"“Smart quotes”", "5 €"}},
		{fixture: "charset-gb18030", textHas: []string{"双重验证设备"}},
		{fixture: "charset-gbk", subject: "恢复账户", textHas: []string{"请帮我恢复账户"}},
		{fixture: "charset-koi8-r", textHas: []string{"Привет, мир!"}},
		{fixture: "charset-shift_jis", subject: "アカウント復旧", textHas: []string{"二要素認証"}},
		{fixture: "charset-euc-jp", textHas: []string{"端末がありません"}},
		{fixture: "charset-big5", textHas: []string{"驗證裝置"}},
		{fixture: "charset-unknown", textHas: []string{"Schöne Grüße"}},
		{fixture: "rfc2047-mixed", subject: "Re: café crème and plain € end"},
		{fixture: "rfc2047-broken", subject: "=?utf-8?B?not*valid*base64?= Hallö =?utf-8?Q?unterminated"},
		{fixture: "alternative", textHas: []string{"Plain version with a café."}, htmlHas: "<b>caf&eacute;</b>"},
		{fixture: "html-only", textHas: []string{"I lost my security key.\nPlease help.", "- Project: alice-tools <https://pkg.example/alice>", "> Quoted text"},
			check: func(t *testing.T, p *mailbox.Parsed) {
				if strings.Contains(p.Text, "alert") || strings.Contains(p.Text, "ignored") {
					t.Errorf("script or title leaked into text: %q", p.Text)
				}
			}},
		{fixture: "mixed-nested-alternative", textHas: []string{"See the attached documents."}, htmlHas: "<i>attached</i>",
			attachments: []string{"id-card.pdf", "notes.txt"}},
		{fixture: "related-inline-images", attachments: []string{"", "logo.png"},
			check: func(t *testing.T, p *mailbox.Parsed) {
				if a := p.Attachments[0]; !a.Inline || a.ContentID != "shot1@example.org" || len(a.Data) != 70 {
					t.Errorf("inline image: %+v", a)
				}
			}},
		{fixture: "forwarded-rfc822", nested: 1, check: func(t *testing.T, p *mailbox.Parsed) {
			n := p.Nested[0]
			if n.Subject != "Original ✓" || n.MessageID != "orig-1@example.net" || len(n.Attachments) != 1 {
				t.Errorf("nested: %+v", n)
			}
		}},
		{fixture: "rfc2231-filename", attachments: []string{"報告 über.txt"}},
		{fixture: "rfc2231-continuation", attachments: []string{"Sehr lange Dateiname mit Ümlauten.txt", "résumé.txt"}},
		{fixture: "outlook-rfc2047-filename", attachments: []string{"Lebenslauf Jörg.docx", "passwd"}},
		{fixture: "base64-line-noise", textHas: []string{"Text body that was base64 encoded."}, attachments: []string{"scan.pdf"},
			check: func(t *testing.T, p *mailbox.Parsed) {
				if d := p.Attachments[0].Data; len(d) != 1380 || !bytes.HasPrefix(d, []byte("%PDF-1.4")) {
					t.Errorf("noisy base64 decoded to %d bytes", len(d))
				}
			}},
		{fixture: "qp-soft-breaks", textHas: []string{"sending client, and it contains café and € and a literal = sign.", "=ZZ stays and trailing spaces go.\n"}},
		{fixture: "missing-message-id", check: func(t *testing.T, p *mailbox.Parsed) {
			if p.MessageID != "" {
				t.Errorf("MessageID %q, want empty", p.MessageID)
			}
		}},
		{fixture: "references-garbage", check: func(t *testing.T, p *mailbox.Parsed) {
			want := []string{"root@example.org", "mid1@example.org", "bare@example.com", "unterminated@example.org"}
			if p.InReplyTo != "Parent@example.org" || strings.Join(p.References, " ") != strings.Join(want, " ") {
				t.Errorf("InReplyTo %q References %q", p.InReplyTo, p.References)
			}
		}},
		{fixture: "missing-date", check: func(t *testing.T, p *mailbox.Parsed) {
			if !p.Date.IsZero() {
				t.Errorf("Date %v", p.Date)
			}
		}},
		{fixture: "weird-date", check: func(t *testing.T, p *mailbox.Parsed) {
			if want := time.Date(2025, 1, 14, 9, 20, 0, 0, time.UTC); !p.Date.Equal(want) {
				t.Errorf("Date %v, want %v", p.Date, want)
			}
		}},
		{fixture: "auto-reply", check: func(t *testing.T, p *mailbox.Parsed) {
			if p.Get("auto-submitted") != "auto-replied" || p.Get("Return-Path") != "<>" || p.Values("X-Loop") != nil {
				t.Errorf("hygiene headers: %+v", p.Headers)
			}
		}},
		{fixture: "list-mail", check: func(t *testing.T, p *mailbox.Parsed) {
			if p.Get("Precedence") != "list" || !strings.Contains(p.Get("List-Id"), "announce.lists.example.org") {
				t.Errorf("list headers: %+v", p.Headers)
			}
		}},
		{fixture: "dsn-bounce", nested: 1, check: func(t *testing.T, p *mailbox.Parsed) {
			if p.ReportType != "delivery-status" || !bytes.Contains(p.DeliveryStatus, []byte("Status: 5.1.1")) ||
				p.Nested[0].MessageID != "rd.Out123@recoverydesk.test" {
				t.Errorf("report %q status %q nested %q", p.ReportType, p.DeliveryStatus, p.Nested[0].MessageID)
			}
		}},
		{fixture: "dsn-headers-only", nested: 1, check: func(t *testing.T, p *mailbox.Parsed) {
			if p.Nested[0].MessageID != "rd.hdrs@recoverydesk.test" {
				t.Errorf("original headers: %+v", p.Nested[0])
			}
		}},
		{fixture: "nonstandard-bounce", textHas: []string{"Message-ID: <rd.xyz789@recoverydesk.test>"}, check: func(t *testing.T, p *mailbox.Parsed) {
			if p.From.Address != "MAILER-DAEMON@old-mx.example.com" {
				t.Errorf("From %+v", p.From)
			}
		}},
		{fixture: "no-body", subject: "No body"},
		{fixture: "only-headers", subject: "Only headers"},
		{fixture: "truncated-multipart", textHas: []string{"The text survives."}, attachments: []string{"partial.bin"}},
		{fixture: "duplicated-headers", subject: "First subject", check: func(t *testing.T, p *mailbox.Parsed) {
			if p.From.Address != "first@example.org" || len(p.To) != 2 || len(p.Values("Received")) != 2 {
				t.Errorf("From %v To %v", p.From, p.To)
			}
		}},
		{fixture: "long-header-lines", check: func(t *testing.T, p *mailbox.Parsed) {
			if len(p.To) != 300 || len(p.Get("X-Long")) != 5000 {
				t.Errorf("%d To addresses, X-Long of %d bytes", len(p.To), len(p.Get("X-Long")))
			}
		}},
		{fixture: "empty-from", check: func(t *testing.T, p *mailbox.Parsed) {
			if p.From != (mail.Address{}) {
				t.Errorf("From %+v", p.From)
			}
		}},
		{fixture: "reply-to-differs", check: func(t *testing.T, p *mailbox.Parsed) {
			if len(p.ReplyTo) != 2 || p.ReplyTo[0].Address != "alice.private@example.net" || p.From.Address != "alice@example.org" {
				t.Errorf("From %v ReplyTo %v", p.From, p.ReplyTo)
			}
		}},
		{fixture: "raw-8bit-header", subject: "Grüße aus Köln"},
		{fixture: "html-meta-charset", textHas: []string{"Привет"}},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(parseFixtureDir, c.fixture+".eml"))
			if err != nil {
				t.Fatal(err)
			}
			p, err := mailbox.Parse(raw, mailbox.ParseOptions{})
			if c.wantErr {
				if err == nil || !errors.Is(err, mailbox.ErrNotMessage) {
					t.Fatalf("err = %v, want ErrNotMessage", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.subject != "" && p.Subject != c.subject {
				t.Errorf("Subject %q, want %q", p.Subject, c.subject)
			}
			for _, s := range c.textHas {
				if !strings.Contains(p.Text, s) {
					t.Errorf("Text %q lacks %q", p.Text, s)
				}
			}
			if !strings.Contains(p.HTML, c.htmlHas) {
				t.Errorf("HTML %q lacks %q", p.HTML, c.htmlHas)
			}
			if c.attachments != nil {
				var names []string
				for _, a := range p.Attachments {
					names = append(names, a.Filename)
				}
				if strings.Join(names, "|") != strings.Join(c.attachments, "|") {
					t.Errorf("attachments %q, want %q", names, c.attachments)
				}
			}
			if len(p.Nested) != c.nested {
				t.Fatalf("%d nested messages, want %d", len(p.Nested), c.nested)
			}
			if c.check != nil {
				c.check(t, p)
			}
		})
	}
}

// TestParseAttachmentLimit builds a message with a 2 MiB attachment between
// two small ones and parses it with a 1 MiB limit: the big one is hashed and
// listed in Dropped, the small ones are kept, and parsing succeeds.
func TestParseAttachmentLimit(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 2<<20/16)
	small := []byte("small attachment")
	var b bytes.Buffer
	b.WriteString("From: a@example.org\r\nTo: b@example.org\r\nSubject: big\r\nMessage-ID: <big@example.org>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"BIG\"\r\n\r\n" +
		"--BIG\r\nContent-Type: text/plain\r\n\r\nThree files.\r\n")
	for i, data := range [][]byte{small, big, small} {
		fmt.Fprintf(&b, "--BIG\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"f%d.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", i)
		enc := base64.StdEncoding.EncodeToString(data)
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\r\n")
	}
	b.WriteString("--BIG--\r\n")

	p, err := mailbox.Parse(b.Bytes(), mailbox.ParseOptions{MaxAttachmentBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Attachments) != 2 || p.Attachments[0].Filename != "f0.bin" || p.Attachments[1].Filename != "f2.bin" ||
		!bytes.Equal(p.Attachments[1].Data, small) {
		t.Fatalf("kept %+v", p.Attachments)
	}
	sum := sha256.Sum256(big)
	if len(p.Dropped) != 1 {
		t.Fatalf("dropped %+v", p.Dropped)
	}
	d := p.Dropped[0]
	if d.Filename != "f1.bin" || d.Size != int64(len(big)) || d.SHA256 != hex.EncodeToString(sum[:]) || d.Reason == "" {
		t.Errorf("dropped %+v", d)
	}
	if p.Text != "Three files." {
		t.Errorf("Text %q", p.Text)
	}
}
