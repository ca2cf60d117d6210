package desk_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/caseparticipant"
	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// benchThreadCases is how many other cases (each with one message) sit in
// the database, so the lookups go through the indexes, not a tiny table.
const benchThreadCases = 1000

// BenchmarkThread runs Thread with the PostgreSQL lookup for each way a
// reply finds its case: In-Reply-To naming a stored message, our signed
// marker in the body (a rewritten Message-ID), the subject tag from a
// participant, and a message that matches nothing and opens a new case.
func BenchmarkThread(b *testing.B) {
	st := testdb.Store(b)
	ctx := context.Background()
	for i := range benchThreadCases {
		queueCase(b, st, qc{subject: "Locked out", body: fmt.Sprintf("message %d", i)})
	}
	caseID, ref := queueCase(b, st, qc{subject: "Lost my phone"})
	requester := unique("ann") + "@example.org"
	storedID := unique("first") + "@mail.example.org"
	if err := st.Ent.CaseParticipant.Create().SetCaseID(caseID).SetEmailNormalized(requester).
		SetRole(caseparticipant.RoleRequester).SetCreatedAt(time.Now()).Exec(ctx); err != nil {
		b.Fatal(err)
	}
	if err := st.Ent.Message.Create().SetCaseID(caseID).SetMessageIDHeader(storedID).
		SetDirection(message.DirectionInbound).SetVisibility(message.VisibilityPublic).SetChannel(message.ChannelEmail).
		SetFromAddress(requester).SetSubject("Lost my phone").SetBodyText("Please help.").Exec(ctx); err != nil {
		b.Fatal(err)
	}
	signer := threadSigner(b)
	look := desk.NewThreadLookup(st.Ent)

	for _, c := range []struct {
		name string
		in   desk.ThreadInput
		rule string
	}{
		{"in-reply-to", desk.ThreadInput{InReplyTo: "<" + storedID + ">", From: requester}, desk.RuleInReplyTo},
		{"marker", desk.ThreadInput{
			InReplyTo: "<rewritten-by-exchange@outlook.example>", From: requester,
			Body: "Thanks!\n\n> " + signer.Marker(ref) + "\n> your earlier reply",
		}, desk.RuleMarker},
		{"subject-tag", desk.ThreadInput{Subject: "Re: [" + ref + "] Lost my phone", From: requester}, desk.RuleSubjectTag},
		{"new", desk.ThreadInput{InReplyTo: "<unknown@else.example>", Subject: "Help", From: "new@example.net"}, desk.RuleNew},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d, err := desk.Thread(ctx, c.in, look, signer)
				if err != nil {
					b.Fatal(err)
				}
				if d.Rule != c.rule || (!d.New && d.CaseID != caseID) {
					b.Fatalf("decision %+v, want rule %s for case %d", d, c.rule, caseID)
				}
			}
		})
	}
}
