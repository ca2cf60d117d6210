package desk_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// memLookup is an in-memory ThreadLookup: threading is a pure rule, so its
// table needs no database (the PostgreSQL-backed lookup is tested on its own).
type memLookup struct {
	byMessageID  map[string]int
	byRef        map[string]int
	participants map[int][]string
	err          error      // returned by every call when set
	idCalls      [][]string // the ids of each CaseByMessageID call
}

func (m *memLookup) CaseByMessageID(_ context.Context, ids []string) (int, bool, error) {
	m.idCalls = append(m.idCalls, slices.Clone(ids))
	if m.err != nil {
		return 0, false, m.err
	}
	for _, id := range ids { // the earliest id wins, as the interface says
		if c, ok := m.byMessageID[id]; ok {
			return c, true, nil
		}
	}
	return 0, false, nil
}

func (m *memLookup) CaseByReference(_ context.Context, ref string) (int, bool, error) {
	if m.err != nil {
		return 0, false, m.err
	}
	c, ok := m.byRef[ref]
	return c, ok, nil
}

func (m *memLookup) IsParticipant(_ context.Context, caseID int, address string) (bool, error) {
	if m.err != nil {
		return false, m.err
	}
	return slices.Contains(m.participants[caseID], address), nil
}

var threadSecret = []byte("threading-test-secret-0123456789abcdef")

func threadSigner(t testing.TB) *mailbox.MessageIDSigner {
	t.Helper()
	s, err := mailbox.NewMessageIDSigner(threadSecret, "support.example.org")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// threadWorld: case 1 RD-AAAAAA (Ann), case 2 RD-BBBBBB (Bob), case 3
// RD-CCCCCC (Carol). storedSigned is our acknowledgement in case 1; mail we
// sent in case 2 is signed but no longer stored (prunedSigned).
type threadWorld struct {
	look         *memLookup
	signer       *mailbox.MessageIDSigner
	storedSigned string
	prunedSigned string
}

func newThreadWorld(t testing.TB) threadWorld {
	s := threadSigner(t)
	w := threadWorld{signer: s, storedSigned: s.New("RD-AAAAAA"), prunedSigned: s.New("RD-BBBBBB")}
	w.look = &memLookup{
		byMessageID: map[string]int{
			w.storedSigned:               1,
			"ann-first@mail.example.org": 1,
			"bob-1@bob.example.net":      2,
			"bob-2@bob.example.net":      2,
			"carol-1@carol.example.com":  3,
		},
		byRef: map[string]int{"RD-AAAAAA": 1, "RD-BBBBBB": 2, "RD-CCCCCC": 3},
		participants: map[int][]string{
			1: {"ann@example.org"},
			2: {"bob@example.net"},
			3: {"carol@example.com"},
		},
	}
	return w
}

// forge returns a signed-looking ID for ref that we never made.
func forge(ref string) string {
	return "rd." + strings.ToLower(ref) + ".aaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbb@support.example.org"
}

func TestThread(t *testing.T) {
	w := newThreadWorld(t)
	outlookID := "<AM0PR01MB1234ABCD@AM0PR01MB1234.eurprd01.prod.outlook.com>"
	tests := []struct {
		name string
		in   desk.ThreadInput
		want desk.ThreadDecision
	}{
		{"reply by In-Reply-To",
			desk.ThreadInput{InReplyTo: "<" + w.storedSigned + ">", From: "ann@example.org"},
			desk.ThreadDecision{CaseID: 1, Rule: desk.RuleInReplyTo}},
		{"In-Reply-To with a phrase around the id",
			desk.ThreadInput{InReplyTo: `Your message of Mon, 2 Mar 2026 <bob-1@bob.example.net> (sent)`},
			desk.ThreadDecision{CaseID: 2, Rule: desk.RuleInReplyTo}},
		{"reply by References only",
			desk.ThreadInput{References: []string{"<ann-first@mail.example.org>"}, From: "someone@else.example"},
			desk.ThreadDecision{CaseID: 1, Rule: desk.RuleReferences}},
		{"several References match: the newest wins",
			desk.ThreadInput{References: []string{"<ann-first@mail.example.org> <bob-1@bob.example.net>", "<unknown@x.example>"}},
			desk.ThreadDecision{CaseID: 2, Rule: desk.RuleReferences}},
		{"References as separate header values, bare ids",
			desk.ThreadInput{References: []string{"bob-1@bob.example.net", "carol-1@carol.example.com"}},
			desk.ThreadDecision{CaseID: 3, Rule: desk.RuleReferences}},
		{"In-Reply-To beats References",
			desk.ThreadInput{InReplyTo: "<bob-2@bob.example.net>", References: []string{"<carol-1@carol.example.com>"}},
			desk.ThreadDecision{CaseID: 2, Rule: desk.RuleInReplyTo}},
		{"unknown In-Reply-To, known References",
			desk.ThreadInput{InReplyTo: "<lost@x.example>", References: []string{"<carol-1@carol.example.com>", "<lost@x.example>"}},
			desk.ThreadDecision{CaseID: 3, Rule: desk.RuleReferences}},
		{"our signed id, message no longer stored",
			desk.ThreadInput{InReplyTo: "<" + w.prunedSigned + ">", From: "stranger@evil.example"},
			desk.ThreadDecision{CaseID: 2, Rule: desk.RuleSignedID}},
		{"our signed id in References, case-mangled by a relay",
			desk.ThreadInput{References: []string{"<x@y.example> <" + strings.ToUpper(w.prunedSigned) + ">"}},
			desk.ThreadDecision{CaseID: 2, Rule: desk.RuleSignedID}},
		{"forged signed Message-ID is not trusted",
			desk.ThreadInput{InReplyTo: "<" + forge("RD-AAAAAA") + ">", From: "stranger@evil.example"},
			desk.ThreadDecision{New: true, Rule: desk.RuleNew}},
		{"forged signed id plus subject tag from a stranger",
			desk.ThreadInput{InReplyTo: "<" + forge("RD-AAAAAA") + ">", Subject: "Re: [RD-AAAAAA] reset", From: "stranger@evil.example"},
			desk.ThreadDecision{New: true, Rule: desk.RuleNew}},
		{"forged signed id ignored, then subject tag from the participant",
			desk.ThreadInput{InReplyTo: "<" + forge("RD-BBBBBB") + ">", Subject: "Re: [RD-AAAAAA]", From: "ann@example.org"},
			desk.ThreadDecision{CaseID: 1, Rule: desk.RuleSubjectTag}},
		{"body marker with a rewritten Message-ID (Exchange)",
			desk.ThreadInput{InReplyTo: outlookID, References: []string{outlookID},
				Body: "Here is the photo.\n\n________________________________\nFrom: Support\n" + w.signer.Marker("RD-CCCCCC") + "\n",
				From: "carol@example.com"},
			desk.ThreadDecision{CaseID: 3, Rule: desk.RuleMarker}},
		{"body marker from another address still joins",
			desk.ThreadInput{Body: "> " + w.signer.Marker("RD-CCCCCC"), From: "carol.work@example.com"},
			desk.ThreadDecision{CaseID: 3, Rule: desk.RuleMarker}},
		{"forged body marker",
			desk.ThreadInput{Body: "[ref:RD-CCCCCC:aaaaaaaaaaaaaaaa]", From: "stranger@evil.example"},
			desk.ThreadDecision{New: true, Rule: desk.RuleNew}},
		{"stored In-Reply-To beats the marker",
			desk.ThreadInput{InReplyTo: "<bob-1@bob.example.net>", Body: w.signer.Marker("RD-CCCCCC")},
			desk.ThreadDecision{CaseID: 2, Rule: desk.RuleInReplyTo}},
		{"marker beats the subject tag",
			desk.ThreadInput{Subject: "[RD-AAAAAA]", Body: w.signer.Marker("RD-CCCCCC"), From: "ann@example.org"},
			desk.ThreadDecision{CaseID: 3, Rule: desk.RuleMarker}},
		{"subject tag from a participant",
			desk.ThreadInput{Subject: "Re: [RD-AAAAAA] Lost my phone", From: "ann@example.org"},
			desk.ThreadDecision{CaseID: 1, Rule: desk.RuleSubjectTag}},
		{"subject tag in lower case, no brackets",
			desk.ThreadInput{Subject: "re: about rd-aaaaaa", From: "ann@example.org"},
			desk.ThreadDecision{CaseID: 1, Rule: desk.RuleSubjectTag}},
		{"subject tag from a stranger opens a new case",
			desk.ThreadInput{Subject: "Re: [RD-AAAAAA] Lost my phone", From: "mallory@evil.example"},
			desk.ThreadDecision{New: true, Rule: desk.RuleNew}},
		{"subject tag of another participant's case",
			desk.ThreadInput{Subject: "[RD-BBBBBB]", From: "ann@example.org"},
			desk.ThreadDecision{New: true, Rule: desk.RuleNew}},
		{"subject tag for a case that does not exist",
			desk.ThreadInput{Subject: "[RD-ZZZZZZ] help", From: "ann@example.org"},
			desk.ThreadDecision{New: true, Rule: desk.RuleNew}},
		{"two tags: the one whose case has the sender",
			desk.ThreadInput{Subject: "[RD-BBBBBB] and [RD-CCCCCC]", From: "carol@example.com"},
			desk.ThreadDecision{CaseID: 3, Rule: desk.RuleSubjectTag}},
		{"subject tag without a sender",
			desk.ThreadInput{Subject: "[RD-AAAAAA]"},
			desk.ThreadDecision{New: true, Rule: desk.RuleNew}},
		{"a message referring to itself only",
			desk.ThreadInput{MessageID: "<bob-1@bob.example.net>", References: []string{"<bob-1@bob.example.net>"}},
			desk.ThreadDecision{New: true, Rule: desk.RuleNew}},
		{"nothing at all",
			desk.ThreadInput{Subject: "I lost my authenticator", Body: "Please help", From: "dave@example.org"},
			desk.ThreadDecision{New: true, Rule: desk.RuleNew}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := desk.Thread(context.Background(), tc.in, w.look, w.signer)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("Thread = %+v; want %+v", got, tc.want)
			}
		})
	}
}

func TestThreadAsksForNewestReferencesFirstAndBounded(t *testing.T) {
	w := newThreadWorld(t)
	var refs []string
	for i := range 500 {
		refs = append(refs, fmt.Sprintf("<r%d@x.example>", i))
	}
	// One References value per ID, so the bound tested is Thread's own.
	in := desk.ThreadInput{InReplyTo: "<r499@x.example>", References: refs}
	if _, err := desk.Thread(context.Background(), in, w.look, w.signer); err != nil {
		t.Fatal(err)
	}
	if len(w.look.idCalls) != 2 {
		t.Fatalf("CaseByMessageID called %d times; want 2 (In-Reply-To, References)", len(w.look.idCalls))
	}
	if want := []string{"r499@x.example"}; !reflect.DeepEqual(w.look.idCalls[0], want) {
		t.Errorf("In-Reply-To lookup got %v; want %v", w.look.idCalls[0], want)
	}
	got := w.look.idCalls[1]
	if len(got) != 99 || got[0] != "r498@x.example" || got[98] != "r400@x.example" {
		t.Errorf("References lookup got %d ids %v…; want the 99 newest after In-Reply-To, newest first", len(got), got[:min(3, len(got))])
	}
}

func TestThreadErrors(t *testing.T) {
	w := newThreadWorld(t)
	boom := errors.New("database down")
	w.look.err = boom
	for _, in := range []desk.ThreadInput{
		{InReplyTo: "<a@b>"},
		{Body: w.signer.Marker("RD-AAAAAA")},
		{Subject: "[RD-AAAAAA]", From: "ann@example.org"},
	} {
		if _, err := desk.Thread(context.Background(), in, w.look, w.signer); !errors.Is(err, boom) {
			t.Errorf("Thread(%+v) error = %v; want it to wrap %v", in, err, boom)
		}
	}
	if _, err := desk.Thread(context.Background(), desk.ThreadInput{}, w.look, nil); err == nil {
		t.Error("Thread with a nil signer gave no error")
	}
}

func TestSubjectTags(t *testing.T) {
	tests := []struct {
		subject string
		want    []string
	}{
		{"Re: [RD-7K3F9Q] Lost phone", []string{"RD-7K3F9Q"}},
		{"re: [rd-7k3f9q]", []string{"RD-7K3F9Q"}},
		{"About RD 7K3F9Q", []string{"RD-7K3F9Q"}},
		{"About RD7K3F9Q", []string{"RD-7K3F9Q"}},
		{"Fwd:Re:(RD-7K3F9Q)", []string{"RD-7K3F9Q"}},
		{"RD-7K3F9Q and [RD-ABCDEF], again rd-7k3f9q", []string{"RD-7K3F9Q", "RD-ABCDEF"}},
		{"CARD-7K3F9Q", nil},
		{"RD-7K3F9QX", nil},
		{"RD-7K3F9O", nil}, // O is a look-alike, not in the alphabet
		{"RD-7K3F9", nil},
		{"", nil},
	}
	for _, tc := range tests {
		if got := desk.SubjectTags(tc.subject); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SubjectTags(%q) = %v; want %v", tc.subject, got, tc.want)
		}
	}
}
