package desk_test

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"testing"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/caseparticipant"
	"github.com/recoverydesk/recoverydesk/ent/evidenceitem"
	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

func TestMergeMovesThreadAndEvidence(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := newCaseDesk(t)
	into := d.fileCase(t)
	dup := d.fileCase(t)
	agent, _ := d.member(t, user.StaffRoleAgent)

	shared := unique("key")
	d.addItem(t, into.ID, shared, "Survivor's own finding")
	d.addItem(t, dup.ID, shared, "Duplicate's finding under the same key")
	d.addItem(t, dup.ID, unique("key"), "Duplicate's unique finding")
	if err := d.tr.Reply(ctx, dup.Reference, agent, "A question on the duplicate."); err != nil {
		t.Fatal(err)
	}
	if err := d.tr.AddNote(ctx, dup.Reference, agent, "note on the duplicate"); err != nil {
		t.Fatal(err)
	}
	reply := mails(t, d.st, dup.ID, mailbox.PurposeCaseReply)[0]
	dupMsgs, _ := d.st.Ent.Message.Query().Where(message.CaseID(dup.ID)).Count(ctx)
	dupMails, _ := d.st.Ent.OutboundMail.Query().Where(outboundmail.CaseID(dup.ID)).Count(ctx)

	res, err := d.tr.Merge(ctx, strings.ToLower(dup.Reference), into.Reference, agent)
	if err != nil {
		t.Fatal(err)
	}
	if res.Into != into.Reference || res.Messages != dupMsgs || res.Mails != dupMails || res.Evidence != 1 || res.SkippedEvidence != 1 {
		t.Errorf("merge result %+v (messages %d, mails %d)", res, dupMsgs, dupMails)
	}
	if n, _ := d.st.Ent.Message.Query().Where(message.CaseID(dup.ID)).Count(ctx); n != 0 {
		t.Errorf("%d messages left on the duplicate", n)
	}
	if n, _ := d.st.Ent.OutboundMail.Query().Where(outboundmail.CaseID(dup.ID)).Count(ctx); n != 0 {
		t.Errorf("%d mails left on the duplicate", n)
	}
	items, err := d.st.Ent.EvidenceItem.Query().Where(evidenceitem.CaseID(into.ID)).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var summaries []string
	for _, it := range items {
		summaries = append(summaries, it.Finding.Summary)
	}
	if got := strings.Join(summaries, "|"); !strings.Contains(got, "Survivor's own finding") || !strings.Contains(got, "Duplicate's unique finding") || strings.Contains(got, "same key") {
		t.Errorf("survivor's evidence: %s", got)
	}
	dupRow := d.caseRow(t, dup.ID)
	if dupRow.MergedIntoID == nil || *dupRow.MergedIntoID != into.ID || dupRow.Status != supportcase.StatusClosed {
		t.Errorf("duplicate after merge: merged into %v, status %s", dupRow.MergedIntoID, dupRow.Status)
	}
	// The duplicate's requester can now be matched on the survivor.
	if ok, _ := d.st.Ent.CaseParticipant.Query().Where(caseparticipant.CaseID(into.ID), caseparticipant.EmailNormalized(dupRow.RequesterEmailNormalized)).Exist(ctx); !ok {
		t.Error("the duplicate's requester is no participant of the survivor")
	}

	// Both timelines say so; both audit trails hold the merge.
	if titles := strings.Join(d.timelineTitles(t, dup.Reference), "\n"); !strings.Contains(titles, "Merged into "+into.Reference) {
		t.Errorf("duplicate's timeline:\n%s", titles)
	}
	f, err := d.ev.CaseFile(ctx, into.Reference)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, e := range f.Timeline {
		titles = append(titles, e.Title)
	}
	all := strings.Join(titles, "\n")
	for _, want := range []string{dup.Reference + " merged into this case", "A question on the duplicate.", "Internal note by"} {
		if !strings.Contains(all, want) && !strings.Contains(bodies(f.Timeline), want) {
			t.Errorf("survivor's timeline lacks %q:\n%s", want, all)
		}
	}
	var merged bool
	for _, a := range f.Audit {
		merged = merged || (a.Case == dup.Reference && a.Action == "case merged")
	}
	if !merged {
		t.Errorf("survivor's audit trail lacks the merge: %+v", f.Audit)
	}
	wantActions(t, d.auditActions(t, dup.Reference), "case_replied", "case_note_added", "case_merged")
	dupFile, err := d.ev.CaseFile(ctx, dup.Reference)
	if err != nil {
		t.Fatal(err)
	}
	if dupFile.MergedInto != into.Reference {
		t.Errorf("duplicate's file says merged into %q", dupFile.MergedInto)
	}

	// A reply to the duplicate's mail lands on the survivor.
	in := newInbound(t)
	raw, id := compose(t, mailbox.Outgoing{
		From: mail.Address{Address: dupRow.RequesterEmail}, Subject: "Re: your question",
		Text: "Here is my answer.", InReplyTo: reply.MessageIDHeader,
	})
	in.deliver(raw)
	if got := *in.stored(id).CaseID; got != into.ID {
		t.Errorf("reply to the merged thread joined case %d, want the survivor %d", got, into.ID)
	}
	// So does a mail naming the old reference in its subject.
	raw, id = compose(t, mailbox.Outgoing{
		From: mail.Address{Address: dupRow.RequesterEmail}, Subject: "About [" + dup.Reference + "]", Text: "Again.",
	})
	in.deliver(raw)
	if got := *in.stored(id).CaseID; got != into.ID {
		t.Errorf("mail with the old reference joined case %d, want the survivor %d", got, into.ID)
	}
	if got, err := d.tr.Survivor(ctx, dup.Reference); err != nil || got != into.Reference {
		t.Errorf("survivor of %s: %q, %v", dup.Reference, got, err)
	}

	// The duplicate's requester still opens their status page, which can
	// name the survivor; it shows none of the survivor's own messages.
	if v, err := d.in.Status(ctx, into.Reference, into.StatusToken); err != nil || v.MergedInto != "" {
		t.Errorf("status of the survivor: merged into %q, %v", v.MergedInto, err)
	}
	if _, err := d.in.Status(ctx, dup.Reference, into.StatusToken); !errors.Is(err, desk.ErrNotFound) {
		t.Errorf("status with another case's token: %v", err)
	}
	v, err := d.in.Status(ctx, dup.Reference, dup.StatusToken)
	if err != nil {
		t.Fatal(err)
	}
	if v.MergedInto != into.Reference {
		t.Errorf("status of the duplicate: merged into %q, want %s", v.MergedInto, into.Reference)
	}
	// What the duplicate's requester adds goes to the survivor.
	if err := d.in.AddInformation(ctx, dup.Reference, dup.StatusToken, "One more thing about my account.", nil, desk.Origin{}); err != nil {
		t.Fatal(err)
	}
	if n, err := d.st.Ent.Message.Query().Where(message.CaseID(into.ID), message.BodyText("One more thing about my account.")).Count(ctx); err != nil || n != 1 {
		t.Errorf("added information on the survivor: %d messages, %v", n, err)
	}
	if len(v.Messages) != 0 || v.Status != "Merged" {
		t.Errorf("duplicate's status page after the merge: %s, %d messages", v.Status, len(v.Messages))
	}
}

func bodies(es []desk.TimelineEntry) string {
	var b strings.Builder
	for _, e := range es {
		b.WriteString(e.Body + "\n")
	}
	return b.String()
}

func TestMergeRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := newCaseDesk(t)
	a, b, c := d.fileCase(t), d.fileCase(t), d.fileCase(t)
	agent, _ := d.member(t, user.StaffRoleAgent)
	nobody, _ := d.member(t, user.StaffRoleNone)

	_, err := d.tr.Merge(ctx, a.Reference, a.Reference, agent)
	wantFieldError(t, err, "into", "itself")
	_, err = d.tr.Merge(ctx, a.Reference, "RD-222222", agent)
	wantFieldError(t, err, "into", "No case")
	_, err = d.tr.Merge(ctx, a.Reference, "nonsense", agent)
	wantFieldError(t, err, "into", "reference")
	if _, err := d.tr.Merge(ctx, a.Reference, b.Reference, nobody); !errors.Is(err, desk.ErrForbidden) {
		t.Errorf("merge by a non-staff user: %v", err)
	}
	if err := d.st.Ent.SupportCase.UpdateOneID(c.ID).SetStatus(supportcase.StatusResetScheduled).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = d.tr.Merge(ctx, a.Reference, c.Reference, agent)
	wantFieldError(t, err, "into", "reset scheduled")
	_, err = d.tr.Merge(ctx, c.Reference, a.Reference, agent)
	wantFieldError(t, err, "into", "reset scheduled")

	if _, err := d.tr.Merge(ctx, a.Reference, b.Reference, agent); err != nil {
		t.Fatal(err)
	}
	// Into a merged case, or acting on one: refused.
	_, err = d.tr.Merge(ctx, b.Reference, a.Reference, agent)
	wantFieldError(t, err, "into", "was itself merged")
	if _, err := d.tr.Merge(ctx, a.Reference, b.Reference, agent); !errors.Is(err, desk.ErrMerged) {
		t.Errorf("merging a merged case again: %v", err)
	}
	if err := d.tr.Reply(ctx, a.Reference, agent, "hello"); !errors.Is(err, desk.ErrMerged) {
		t.Errorf("reply on a merged case: %v", err)
	}
	wantActions(t, d.auditActions(t, a.Reference), "case_merged")

	// Chains are followed to the last survivor.
	d2 := d.fileCase(t)
	if _, err := d.tr.Merge(ctx, b.Reference, d2.Reference, agent); err != nil {
		t.Fatal(err)
	}
	if got, err := d.tr.Survivor(ctx, a.Reference); err != nil || got != d2.Reference {
		t.Errorf("survivor of a chain: %q, %v; want %s", got, err, d2.Reference)
	}
	f, err := d.ev.CaseFile(ctx, d2.Reference)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]bool{}
	for _, l := range f.Audit {
		cases[l.Case] = true
	}
	if !cases[a.Reference] || !cases[b.Reference] {
		t.Errorf("the survivor's audit trail does not include the merged cases: %+v", f.Audit)
	}
}
