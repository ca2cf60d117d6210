package desk_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/evidenceitem"
	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/schema/types"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// addItem records an evidence item on a case directly, as a job would.
func (d caseDesk) addItem(t *testing.T, caseID int, key, summary string) {
	t.Helper()
	if err := d.st.Ent.EvidenceItem.Create().SetCaseID(caseID).SetKind("claimed_project").SetSource("test").
		SetFinding(types.Finding{Summary: summary}).SetStrength(evidenceitem.StrengthPublicKnowledge).
		SetDedupeKey(key).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestTriageReplyMailsAndWaitsOnRequester(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := newCaseDesk(t)
	c := d.fileCase(t)
	agent, agentName := d.member(t, user.StaffRoleAgent)

	if err := d.tr.Reply(ctx, c.Reference, agent, "  Please tell us when you created the account.  "); err != nil {
		t.Fatal(err)
	}
	row := d.caseRow(t, c.ID)
	if row.Status != supportcase.StatusWaitingOnRequester || row.FirstRespondedAt == nil {
		t.Errorf("after the first reply: status %s, first response %v", row.Status, row.FirstRespondedAt)
	}
	sent := mails(t, d.st, c.ID, mailbox.PurposeCaseReply)
	if len(sent) != 1 {
		t.Fatalf("%d replies queued", len(sent))
	}
	m := sent[0]
	if m.ToAddress != row.RequesterEmail || !strings.Contains(m.Subject, "["+c.Reference+"]") ||
		!strings.Contains(m.BodyText, "Please tell us when you created the account.") || !strings.Contains(m.BodyText, d.signer.Marker(c.Reference)) {
		t.Errorf("reply mail to %s %q:\n%s", m.ToAddress, m.Subject, m.BodyText)
	}
	msg, err := d.st.Ent.Message.Query().Where(message.MessageIDHeader(m.MessageIDHeader)).Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Direction != message.DirectionOutbound || msg.Visibility != message.VisibilityPublic || msg.AuthorID == nil || *msg.AuthorID != agent.UserID {
		t.Errorf("stored reply %+v", msg)
	}

	// A later reply keeps the status, unless the form chose another.
	if err := d.tr.ReplyWith(ctx, c.Reference, agent, desk.ReplyForm{Body: "Thanks, we are reviewing it.", Status: "ready_for_decision"}); err != nil {
		t.Fatal(err)
	}
	if got := d.caseRow(t, c.ID).Status; got != supportcase.StatusReadyForDecision {
		t.Errorf("status after a reply choosing ready for decision: %s", got)
	}
	wantActions(t, d.auditActions(t, c.Reference), "case_replied", "case_replied")

	// The timeline shows the replies with their delivery status.
	f, err := d.ev.CaseFile(ctx, c.Reference)
	if err != nil {
		t.Fatal(err)
	}
	var outs int
	for _, e := range f.Timeline {
		if e.Kind == desk.EntryOutbound {
			outs++
			if e.Delivery != "queued" || !strings.Contains(e.Title, agentName) {
				t.Errorf("outbound entry %+v", e)
			}
		}
	}
	if outs != 2 {
		t.Errorf("%d outbound entries on the timeline", outs)
	}

	// Refusals: empty, too long, a status only decisions set, not staff.
	wantFieldError(t, d.tr.Reply(ctx, c.Reference, agent, "   "), "body", "Write the reply")
	wantFieldError(t, d.tr.Reply(ctx, c.Reference, agent, strings.Repeat("x", desk.MaxReplyBytes+1)), "body", "Shorten")
	wantFieldError(t, d.tr.ReplyWith(ctx, c.Reference, agent, desk.ReplyForm{Body: "ok", Status: "resolved"}), "reply_status", "decision")
	nobody, _ := d.member(t, user.StaffRoleNone)
	if err := d.tr.Reply(ctx, c.Reference, nobody, "hello"); !errors.Is(err, desk.ErrForbidden) {
		t.Errorf("reply by a non-staff user: %v", err)
	}
	if err := d.tr.Reply(ctx, "RD-222222", agent, "hello"); !errors.Is(err, desk.ErrNotFound) {
		t.Errorf("reply on an unknown case: %v", err)
	}
	if n := len(mails(t, d.st, c.ID, mailbox.PurposeCaseReply)); n != 2 {
		t.Errorf("%d replies after refused ones, want 2", n)
	}
	wantActions(t, d.auditActions(t, c.Reference), "case_replied", "case_replied")
}

func TestTriageNotesNeverReachTheRequester(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := newCaseDesk(t)
	c := d.fileCase(t)
	agent, agentName := d.member(t, user.StaffRoleAgent)
	before, err := d.st.Ent.OutboundMail.Query().Where(outboundmail.CaseID(c.ID)).Count(ctx)
	if err != nil {
		t.Fatal(err)
	}

	const secret = "Internal: the contact address looks like a throwaway."
	if err := d.tr.AddNote(ctx, c.Reference, agent, secret); err != nil {
		t.Fatal(err)
	}
	note, err := d.st.Ent.Message.Query().Where(message.CaseID(c.ID), message.DirectionEQ(message.DirectionNote)).Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if note.Visibility != message.VisibilityInternal || note.Channel != message.ChannelDesk || note.BodyText != secret || *note.AuthorID != agent.UserID {
		t.Errorf("note %+v", note)
	}
	after, err := d.st.Ent.OutboundMail.Query().Where(outboundmail.CaseID(c.ID)).Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("a note queued %d mails", after-before)
	}
	v, err := d.in.Status(ctx, c.Reference, c.StatusToken)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(statusText(v), "throwaway") {
		t.Errorf("the status page shows the note:\n%s", statusText(v))
	}
	if got := d.caseRow(t, c.ID).Status; got != supportcase.StatusNew {
		t.Errorf("a note changed the status to %s", got)
	}
	var found bool
	for _, e := range d.timelineTitles(t, c.Reference) {
		found = found || e == "Internal note by "+agentName
	}
	if !found {
		t.Errorf("timeline %q lacks the note", d.timelineTitles(t, c.Reference))
	}
	wantFieldError(t, d.tr.AddNote(ctx, c.Reference, agent, ""), "note", "Write the note")
	nobody, _ := d.member(t, user.StaffRoleNone)
	if err := d.tr.AddNote(ctx, c.Reference, nobody, "x"); !errors.Is(err, desk.ErrForbidden) {
		t.Errorf("note by a non-staff user: %v", err)
	}
	wantActions(t, d.auditActions(t, c.Reference), "case_note_added")
}

func TestTriageAssignAndTake(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := newCaseDesk(t)
	c := d.fileCase(t)
	agent, agentName := d.member(t, user.StaffRoleAgent)
	admin, adminName := d.member(t, user.StaffRoleAdmin)
	outsider, _ := d.member(t, user.StaffRoleNone)

	if err := d.tr.Assign(ctx, c.Reference, agent, &agent.UserID); err != nil {
		t.Fatal(err)
	}
	if got := d.caseRow(t, c.ID).AssigneeID; got == nil || *got != agent.UserID {
		t.Errorf("after take: assignee %v", got)
	}
	wantFieldError(t, d.tr.Assign(ctx, c.Reference, agent, &agent.UserID), "assignee", "already assigned")
	wantFieldError(t, d.tr.Assign(ctx, c.Reference, admin, &outsider.UserID), "assignee", "support staff")
	if err := d.tr.Assign(ctx, c.Reference, admin, &admin.UserID); err != nil {
		t.Fatal(err)
	}
	if err := d.tr.Assign(ctx, c.Reference, admin, &agent.UserID); err != nil {
		t.Fatal(err)
	}
	if err := d.tr.Assign(ctx, c.Reference, agent, nil); err != nil {
		t.Fatal(err)
	}
	if got := d.caseRow(t, c.ID).AssigneeID; got != nil {
		t.Errorf("after unassign: assignee %d", *got)
	}
	wantFieldError(t, d.tr.Assign(ctx, c.Reference, agent, nil), "assignee", "not assigned")
	if err := d.tr.Assign(ctx, c.Reference, outsider, &outsider.UserID); !errors.Is(err, desk.ErrForbidden) {
		t.Errorf("take by a non-staff user: %v", err)
	}
	wantActions(t, d.auditActions(t, c.Reference), "case_taken", "case_taken", "case_assigned", "case_unassigned")

	titles := strings.Join(d.timelineTitles(t, c.Reference), "\n")
	for _, want := range []string{
		"Assigned to " + agentName,
		"Reassigned from " + agentName + " to " + adminName,
		"Reassigned from " + adminName + " to " + agentName,
		"Unassigned (was " + agentName + ")",
	} {
		if !strings.Contains(titles, want) {
			t.Errorf("timeline lacks %q:\n%s", want, titles)
		}
	}
}

func TestTriageManualStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := newCaseDesk(t)
	c := d.fileCase(t)
	agent, _ := d.member(t, user.StaffRoleAgent)

	if err := d.tr.SetStatus(ctx, c.Reference, agent, "waiting_on_challenge", "sent a repository challenge"); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"reset_scheduled", "resolved", "denied", "bogus"} {
		wantFieldError(t, d.tr.SetStatus(ctx, c.Reference, agent, to, ""), "status", "decision")
	}
	wantFieldError(t, d.tr.SetStatus(ctx, c.Reference, agent, "waiting_on_challenge", ""), "status", "already")
	wantFieldError(t, d.tr.SetStatus(ctx, c.Reference, agent, "closed", strings.Repeat("r", 1001)), "reason", "Shorten")

	if err := d.tr.SetStatus(ctx, c.Reference, agent, "closed", "duplicate request by phone"); err != nil {
		t.Fatal(err)
	}
	row := d.caseRow(t, c.ID)
	if row.Status != supportcase.StatusClosed || row.ResolvedAt == nil || row.SLADue != nil {
		t.Errorf("closed case: status %s, resolved %v, sla due %v", row.Status, row.ResolvedAt, row.SLADue)
	}
	// Reopening starts the clock again.
	if err := d.tr.SetStatus(ctx, c.Reference, agent, "new", "the requester wrote again"); err != nil {
		t.Fatal(err)
	}
	row = d.caseRow(t, c.ID)
	if row.Status != supportcase.StatusNew || row.ResolvedAt != nil || row.SLADue == nil {
		t.Errorf("reopened case: status %s, resolved %v, sla due %v", row.Status, row.ResolvedAt, row.SLADue)
	}

	// A scheduled reset is left alone by hand.
	if err := d.st.Ent.SupportCase.UpdateOneID(c.ID).SetStatus(supportcase.StatusResetScheduled).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	wantFieldError(t, d.tr.SetStatus(ctx, c.Reference, agent, "closed", ""), "status", "cancel the reset")
	nobody, _ := d.member(t, user.StaffRoleNone)
	if err := d.tr.SetStatus(ctx, c.Reference, nobody, "closed", ""); !errors.Is(err, desk.ErrForbidden) {
		t.Errorf("status change by a non-staff user: %v", err)
	}
	wantActions(t, d.auditActions(t, c.Reference), "case_status_changed", "case_status_changed", "case_status_changed")
	titles := strings.Join(d.timelineTitles(t, c.Reference), "\n")
	if !strings.Contains(titles, "Status changed from closed to new: the requester wrote again") {
		t.Errorf("timeline:\n%s", titles)
	}
}

func TestTriageTags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := newCaseDesk(t)
	c := d.fileCase(t)
	agent, _ := d.member(t, user.StaffRoleAgent)

	if err := d.tr.SetTags(ctx, c.Reference, agent, desk.SplitTags(" VIP, needs-Info  vip,phone-lost ")); err != nil {
		t.Fatal(err)
	}
	if got := d.caseRow(t, c.ID).Tags; strings.Join(got, ",") != "vip,needs-info,phone-lost" {
		t.Errorf("tags %q", got)
	}
	wantFieldError(t, d.tr.SetTags(ctx, c.Reference, agent, []string{"no spaces!"}), "tags", "not a tag")
	wantFieldError(t, d.tr.SetTags(ctx, c.Reference, agent, []string{strings.Repeat("a", 33)}), "tags", "at most 32")
	wantFieldError(t, d.tr.SetTags(ctx, c.Reference, agent, strings.Fields("a b c d e f g h i j k")), "tags", "at most 10")
	wantFieldError(t, d.tr.SetTags(ctx, c.Reference, agent, []string{"vip", "needs-info", "phone-lost"}), "tags", "already")
	if err := d.tr.SetTags(ctx, c.Reference, agent, []string{"vip"}); err != nil {
		t.Fatal(err)
	}
	if err := d.tr.SetTags(ctx, c.Reference, agent, nil); err != nil {
		t.Fatal(err)
	}
	if got := d.caseRow(t, c.ID).Tags; len(got) != 0 {
		t.Errorf("tags after clearing: %q", got)
	}
	nobody, _ := d.member(t, user.StaffRoleNone)
	if err := d.tr.SetTags(ctx, c.Reference, nobody, []string{"x"}); !errors.Is(err, desk.ErrForbidden) {
		t.Errorf("tags by a non-staff user: %v", err)
	}
	wantActions(t, d.auditActions(t, c.Reference), "case_tags_changed", "case_tags_changed", "case_tags_changed")
	titles := strings.Join(d.timelineTitles(t, c.Reference), "\n")
	if !strings.Contains(titles, "Tags added vip, needs-info, phone-lost") || !strings.Contains(titles, "Tags removed needs-info, phone-lost") {
		t.Errorf("timeline:\n%s", titles)
	}
}

func TestTriagePresence(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := newCaseDesk(t)
	c := d.fileCase(t)
	sam, samName := d.member(t, user.StaffRoleAgent)
	kim, kimName := d.member(t, user.StaffRoleAdmin)

	if err := d.tr.Touch(ctx, c.Reference, sam.UserID); err != nil {
		t.Fatal(err)
	}
	others, err := d.tr.Others(ctx, c.Reference, sam.UserID)
	if err != nil || len(others) != 0 {
		t.Errorf("alone: others %q, %v", others, err)
	}
	if err := d.tr.Touch(ctx, c.Reference, kim.UserID); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.tr.Others(ctx, c.Reference, sam.UserID); strings.Join(got, ",") != kimName {
		t.Errorf("sam sees %q, want %q", got, kimName)
	}
	if got, _ := d.tr.Others(ctx, c.Reference, kim.UserID); strings.Join(got, ",") != samName {
		t.Errorf("kim sees %q, want %q", got, samName)
	}
	// Touching again updates the one row per viewer.
	if err := d.tr.Touch(ctx, c.Reference, sam.UserID); err != nil {
		t.Fatal(err)
	}
	if n := d.caseRowPresence(t, c.ID); n != 2 {
		t.Errorf("%d presence rows, want 2", n)
	}
	// Someone who closed the page a while ago is not shown.
	if _, err := d.st.Pool.Exec(ctx, `UPDATE case_presence SET seen_at = now() - interval '1 minute' WHERE user_id = $1`, kim.UserID); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.tr.Others(ctx, c.Reference, sam.UserID); len(got) != 0 {
		t.Errorf("stale presence shown: %q", got)
	}
	if err := d.tr.Touch(ctx, "RD-222222", sam.UserID); !errors.Is(err, desk.ErrNotFound) {
		t.Errorf("touch of an unknown case: %v", err)
	}
}

func (d caseDesk) caseRowPresence(t *testing.T, caseID int) int {
	t.Helper()
	n, err := d.st.Ent.SupportCase.GetX(context.Background(), caseID).QueryPresence().Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTriageTimelineIsOneOrderedList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := newCaseDesk(t)
	c := d.fileCase(t)
	agent, agentName := d.member(t, user.StaffRoleAgent)
	d.addItem(t, c.ID, unique("key"), "Claims the project tools")
	steps := []func() error{
		func() error { return d.tr.AddNote(ctx, c.Reference, agent, "first a note") },
		func() error { return d.tr.Assign(ctx, c.Reference, agent, &agent.UserID) },
		func() error { return d.tr.Reply(ctx, c.Reference, agent, "then a reply") },
		func() error { return d.tr.SetTags(ctx, c.Reference, agent, []string{"later"}) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			t.Fatal(err)
		}
	}
	f, err := d.ev.CaseFile(ctx, c.Reference)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(f.Timeline); i++ {
		if f.Timeline[i].At.Before(f.Timeline[i-1].At) {
			t.Errorf("entry %d (%s) before entry %d (%s)", i, f.Timeline[i].Title, i-1, f.Timeline[i-1].Title)
		}
	}
	var order []string
	kinds := map[string]bool{}
	for _, e := range f.Timeline {
		kinds[e.Kind] = true
		switch {
		case e.Title == "Internal note by "+agentName, e.Title == "Assigned to "+agentName,
			strings.HasPrefix(e.Title, agentName+" replied by email"), e.Title == "Tags added later",
			e.Title == "Case opened (web)":
			order = append(order, e.Title)
		}
	}
	want := []string{"Case opened (web)", "Internal note by " + agentName, "Assigned to " + agentName, agentName + " replied by email to " + d.caseRow(t, c.ID).RequesterEmail, "Tags added later"}
	if strings.Join(order, "|") != strings.Join(want, "|") {
		t.Errorf("timeline order\n%q\nwant\n%q", order, want)
	}
	for _, k := range []string{desk.EntryInbound, desk.EntryOutbound, desk.EntryNote, desk.EntryEvidence, desk.EntryEvent} {
		if !kinds[k] {
			t.Errorf("timeline has no %s entry", k)
		}
	}
	if f.Assignee != agentName || strings.Join(f.Tags, ",") != "later" || f.FirstRespondedAt == nil || f.ResolutionDue == nil {
		t.Errorf("handling %+v", f.Handling)
	}
	var actions []string
	for _, a := range f.Audit {
		actions = append(actions, a.Action)
		if a.Actor != "agent "+agentName || a.Case != c.Reference || a.At.IsZero() {
			t.Errorf("audit line %+v", a)
		}
	}
	if got := strings.Join(actions, ","); got != "case note added,case taken,case replied,case tags changed" {
		t.Errorf("audit trail %q", got)
	}
}
