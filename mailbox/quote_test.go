package mailbox_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recoverydesk/recoverydesk/mailbox"
)

func TestFoldQuotedFixtures(t *testing.T) {
	t.Parallel()
	// quotedStarts is the first line of the folded history; "" means
	// nothing is folded.
	tests := []struct{ file, quotedStarts string }{
		{"gmail-top-wrapped.txt", "On Mon, Mar 3, 2025 at 10:15 AM Recovery Desk <"},
		{"marker-unquoted.txt", mailbox.ReplyAboveMarker},
		{"outlook-desktop.txt", "________________________________"},
		{"outlook-original-message.txt", "-----Original Message-----"},
		{"outlook-mac-bold.txt", "*From:* Recovery Desk <support@recoverydesk.test>"},
		{"apple-ios.txt", "> On 3 Mar 2025, at 10:15, Recovery Desk <support@recoverydesk.test> wrote:"},
		{"apple-macos.txt", "> On 3 Mar 2025, at 10:15, Recovery Desk <support@recoverydesk.test> wrote:"},
		{"thunderbird-signature.txt", "On 3/3/25 10:15, Recovery Desk wrote:"},
		{"bottom-post.txt", ""},
		{"interleaved.txt", "> Thank you,"},
		{"plain-quote.txt", "> Hello,"},
		{"french.txt", "Le lun. 3 mars 2025 à 10:15, Recovery Desk <support@recoverydesk.test> a"},
		{"german.txt", "Am Mo., 3. März 2025 um 10:15 Uhr schrieb Recovery Desk <"},
		{"spanish.txt", "El lun, 3 mar 2025 a las 10:15, Recovery Desk (<support@recoverydesk.test>)"},
		{"lost-quote-marks.txt", "On Monday, March 3, 2025, Recovery Desk <support@recoverydesk.test> wrote:"},
		{"forwarded.txt", ""},
		{"no-quote.txt", ""},
		{"only-quote.txt", ""},
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "quote", "*.txt"))
	if len(files) != len(tests) {
		t.Errorf("%d fixtures in testdata/quote, %d in the table", len(files), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(filepath.Join("testdata", "quote", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			checkFold(t, string(raw), mailbox.ReplyAboveMarker, tt.quotedStarts)
		})
	}
}

func TestFoldQuotedInline(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text, marker, quotedStarts string
	}{
		{"empty", "", mailbox.ReplyAboveMarker, ""},
		{"crlf gmail", "Thanks!\r\n\r\nOn Tue, Mar 4, 2025 at 9:00 AM Desk <s@x.test> wrote:\r\n> hi\r\n> there\r\n", mailbox.ReplyAboveMarker, "On Tue, Mar 4, 2025 at 9:00 AM Desk <s@x.test> wrote:"},
		{"custom marker", "ok\n—— Reply above this line ——\nold text", "—— Reply above this line ——", "—— Reply above this line ——"},
		{"marker rule off", "ok\n" + mailbox.ReplyAboveMarker + "\nold text", "", ""},
		{"quoted marker with reply below", "> " + mailbox.ReplyAboveMarker + "\n> Our question?\n\nMy answer.", mailbox.ReplyAboveMarker, ""},
		{"on-line of my own above the attribution", "On second thought, cancel it.\nOn Tue, Mar 4, 2025 at 9:00 AM Desk <s@x.test> wrote:\n> hi", "", "On Tue, Mar 4, 2025 at 9:00 AM Desk <s@x.test> wrote:"},
		{"from line without header block", "From: my other address, ada@example.org\nI can confirm.", "", ""},
		{"underscores alone", "Reply\n______________________________\nNot a header at all", "", ""},
		{"signature after trailing quote keeps all", "Reply\n\n> quoted\n-- \nAda", "", ""},
		{"german outlook separator", "Erledigt.\n\n-----Ursprüngliche Nachricht-----\nVon: Desk\nGesendet: Montag\nAn: Jonas\nBetreff: RD", "", "-----Ursprüngliche Nachricht-----"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkFold(t, tt.text, tt.marker, tt.quotedStarts)
		})
	}
}

// checkFold asserts the split point and that no text was lost: Visible is
// a prefix of text, and Visible and Quoted together hold every non-blank
// line of text in order.
func checkFold(t *testing.T, text, marker, quotedStarts string) {
	t.Helper()
	got := mailbox.FoldQuoted(text, marker)
	firstQuoted, _, _ := strings.Cut(got.Quoted, "\n")
	if strings.TrimSpace(firstQuoted) != quotedStarts {
		t.Errorf("Quoted starts with %q, want %q\nVisible:\n%s", firstQuoted, quotedStarts, got.Visible)
	}
	if quotedStarts != "" && strings.TrimSpace(got.Visible) == "" {
		t.Errorf("folded to an empty Visible")
	}
	if !strings.HasPrefix(text, got.Visible) {
		t.Errorf("Visible is not a prefix of the text:\n%q", got.Visible)
	}
	want := nonBlankLines(text)
	have := append(nonBlankLines(got.Visible), nonBlankLines(got.Quoted)...)
	if strings.Join(have, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines lost or reordered:\n got  %q\n want %q", have, want)
	}
}

func nonBlankLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// FuzzFoldQuoted checks on any text that folding never loses a line.
func FuzzFoldQuoted(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "quote", "*.txt"))
	for _, p := range files {
		raw, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(raw))
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := mailbox.FoldQuoted(text, mailbox.ReplyAboveMarker)
		if !strings.HasPrefix(text, got.Visible) {
			t.Fatalf("Visible is not a prefix of the text")
		}
		want := nonBlankLines(text)
		have := append(nonBlankLines(got.Visible), nonBlankLines(got.Quoted)...)
		if strings.Join(have, "\n") != strings.Join(want, "\n") {
			t.Fatalf("lines lost: got %q want %q", have, want)
		}
	})
}
