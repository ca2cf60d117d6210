package desk_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// threadFixture is one file of testdata/threading: header lines
// ("In-Reply-To: ...", "References: ..." may repeat), an empty line, the
// body. "X-Want: <rule> <case>" is the expected decision in newThreadWorld.
// {{signed:REF}} and {{marker:REF}} become a fresh signed ID or marker.
type threadFixture struct {
	name     string
	in       desk.ThreadInput
	wantRule string
	wantCase int
}

var placeholder = regexp.MustCompile(`\{\{(signed|marker):([A-Z0-9-]+)\}\}`)

func loadThreadFixtures(t testing.TB, s *mailbox.MessageIDSigner) []threadFixture {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "threading", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no threading fixtures (%v)", err)
	}
	var out []threadFixture
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		text := placeholder.ReplaceAllStringFunc(string(raw), func(m string) string {
			p := placeholder.FindStringSubmatch(m)
			if p[1] == "signed" {
				return s.New(p[2])
			}
			return s.Marker(p[2])
		})
		head, body, _ := strings.Cut(text, "\n\n")
		f := threadFixture{name: filepath.Base(file), in: desk.ThreadInput{Body: body}}
		for _, line := range strings.Split(head, "\n") {
			name, value, _ := strings.Cut(line, ":")
			value = strings.TrimSpace(value)
			switch strings.ToLower(name) {
			case "message-id":
				f.in.MessageID = value
			case "in-reply-to":
				f.in.InReplyTo = value
			case "references":
				f.in.References = append(f.in.References, value)
			case "subject":
				f.in.Subject = value
			case "from":
				f.in.From = value
			case "x-want":
				rule, c, _ := strings.Cut(value, " ")
				f.wantRule = rule
				if f.wantCase, err = strconv.Atoi(c); err != nil {
					t.Fatalf("%s: X-Want: %v", file, err)
				}
			}
		}
		out = append(out, f)
	}
	return out
}

func TestThreadFixtures(t *testing.T) {
	w := newThreadWorld(t)
	for _, f := range loadThreadFixtures(t, w.signer) {
		got, err := desk.Thread(context.Background(), f.in, w.look, w.signer)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		if got.Rule != f.wantRule || got.CaseID != f.wantCase {
			t.Errorf("%s: Thread = %+v; want rule %s, case %d", f.name, got, f.wantRule, f.wantCase)
		}
	}
}

func FuzzSubjectTags(f *testing.F) {
	for _, fx := range loadThreadFixtures(f, threadSigner(f)) {
		f.Add(fx.in.Subject)
	}
	f.Add("[RD-7K3F9Q] rd 7k3f9q RD7K3F9Q RD-7K3F9QX CARD-7K3F9Q")
	f.Fuzz(func(t *testing.T, subject string) {
		tags := desk.SubjectTags(subject)
		upper := strings.ToUpper(subject)
		for i, tag := range tags {
			if norm, ok := desk.NormalizeReference(tag); !ok || norm != tag {
				t.Fatalf("SubjectTags(%q) returned %q, not a canonical reference", subject, tag)
			}
			if !strings.Contains(upper, tag[3:]) {
				t.Fatalf("SubjectTags(%q) returned %q, which is not in the subject", subject, tag)
			}
			if slices.Contains(tags[:i], tag) {
				t.Fatalf("SubjectTags(%q) repeats %q", subject, tag)
			}
		}
	})
}

func FuzzThreadHeaders(f *testing.F) {
	w := newThreadWorld(f)
	for _, fx := range loadThreadFixtures(f, w.signer) {
		f.Add(fx.in.MessageID, fx.in.InReplyTo, strings.Join(fx.in.References, " "), fx.in.Subject, fx.in.Body, fx.in.From)
	}
	f.Fuzz(func(t *testing.T, msgID, inReplyTo, references, subject, body, from string) {
		in := desk.ThreadInput{MessageID: msgID, InReplyTo: inReplyTo, Subject: subject, Body: body, From: from}
		if references != "" {
			// Split in two values so multi-valued References are exercised.
			half := len(references) / 2
			in.References = []string{references[:half], references[half:]}
		}
		w.look.idCalls = nil
		got, err := desk.Thread(context.Background(), in, w.look, w.signer)
		if err != nil {
			t.Fatalf("Thread: %v", err)
		}
		for _, ids := range w.look.idCalls {
			if len(ids) == 0 || len(ids) > 100 {
				t.Fatalf("CaseByMessageID asked with %d ids", len(ids))
			}
		}
		switch got.Rule {
		case desk.RuleNew:
			if !got.New || got.CaseID != 0 {
				t.Fatalf("new decision %+v", got)
			}
		case desk.RuleInReplyTo, desk.RuleReferences, desk.RuleSignedID, desk.RuleMarker:
			if got.New || got.CaseID < 1 || got.CaseID > 3 {
				t.Fatalf("join decision %+v", got)
			}
		case desk.RuleSubjectTag:
			// The rule that matters most: a tag never lets a stranger in.
			if got.New || !slices.Contains(w.look.participants[got.CaseID], from) {
				t.Fatalf("subject-tag decision %+v for non-participant %q", got, from)
			}
		default:
			t.Fatalf("unknown rule in %+v", got)
		}
	})
}
