package desk_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/actiontoken"
	"github.com/recoverydesk/recoverydesk/ent/auditevent"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

func TestCannedRepliesAreManagedByAdmins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := newCaseDesk(t)
	admin, _ := d.member(t, user.StaffRoleAdmin)
	agent, _ := d.member(t, user.StaffRoleAgent)
	name := unique("More information ")

	if _, err := d.tr.CreateCanned(ctx, agent, name, "Hello {{requester_name}}"); !errors.Is(err, desk.ErrForbidden) {
		t.Errorf("an agent creating a canned reply: %v", err)
	}
	r, err := d.tr.CreateCanned(ctx, admin, "  "+name+" ", "Hello {{requester_name}},\r\n\r\nwe need more on {{ reference }}.")
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != name || r.Body != "Hello {{requester_name}},\n\nwe need more on {{ reference }}." {
		t.Errorf("created %+v", r)
	}
	_, err = d.tr.CreateCanned(ctx, admin, name, "another body")
	wantFieldError(t, err, "name", "already exists")
	_, err = d.tr.CreateCanned(ctx, admin, unique("x"), "Dear {{requester_email}}, see {{status_link}} and {{nope}}")
	wantFieldError(t, err, "body", "{{requester_email}}, {{nope}}")
	_, err = d.tr.CreateCanned(ctx, admin, "", "")
	wantFieldError(t, err, "name", "Give the reply a name")
	wantFieldError(t, err, "body", "Write the text")

	list, err := d.tr.CannedReplies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var listed bool
	for _, l := range list {
		listed = listed || l.ID == r.ID
	}
	if !listed {
		t.Errorf("canned reply %d not listed in %+v", r.ID, list)
	}

	other, err := d.tr.CreateCanned(ctx, admin, unique("Other "), "Other text")
	if err != nil {
		t.Fatal(err)
	}
	wantFieldError(t, d.tr.UpdateCanned(ctx, admin, other.ID, name, "x"), "name", "already exists")
	if err := d.tr.UpdateCanned(ctx, agent, other.ID, other.Name, "changed"); !errors.Is(err, desk.ErrForbidden) {
		t.Errorf("an agent editing: %v", err)
	}
	if err := d.tr.UpdateCanned(ctx, admin, other.ID, other.Name, "Changed text for {{reference}}"); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.tr.CannedReplyByID(ctx, other.ID); got.Body != "Changed text for {{reference}}" {
		t.Errorf("after update: %+v", got)
	}
	if err := d.tr.DeleteCanned(ctx, agent, other.ID); !errors.Is(err, desk.ErrForbidden) {
		t.Errorf("an agent deleting: %v", err)
	}
	if err := d.tr.DeleteCanned(ctx, admin, other.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.tr.CannedReplyByID(ctx, other.ID); !errors.Is(err, desk.ErrNotFound) {
		t.Errorf("deleted reply still there: %v", err)
	}
	if err := d.tr.DeleteCanned(ctx, admin, other.ID); !errors.Is(err, desk.ErrNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
	n, err := d.st.Ent.AuditEvent.Query().Where(auditevent.TargetType("canned_reply"), auditevent.ActorID(admin.UserID)).Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("%d audit rows for canned replies, want 4 (two created, updated, deleted)", n)
	}
}

var statusLinkRE = regexp.MustCompile(regexp.QuoteMeta(testBase+desk.PathCaseStatus) + `(RD-[A-Z0-9]+)\?token=([A-Za-z0-9_-]+)`)

func TestCannedPlaceholdersAndStatusLink(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := newCaseDesk(t)
	c := d.fileCase(t)
	other := d.fileCase(t)
	agent, _ := d.member(t, user.StaffRoleAgent)

	body := "Hello {{requester_name}},\n\nyour case {{reference}} needs one more answer. See {{status_link}}\nor again {{status_link}}. {{unknown}} stays."
	if err := d.tr.Reply(ctx, c.Reference, agent, body); err != nil {
		t.Fatal(err)
	}
	sent := mails(t, d.st, c.ID, mailbox.PurposeCaseReply)
	if len(sent) != 1 {
		t.Fatalf("%d replies", len(sent))
	}
	text := sent[0].BodyText
	for _, want := range []string{"Hello Ada Lovelace,", "your case " + c.Reference + " needs", "{{unknown}} stays."} {
		if !strings.Contains(text, want) {
			t.Errorf("reply lacks %q:\n%s", want, text)
		}
	}
	links := statusLinkRE.FindAllStringSubmatch(text, -1)
	if len(links) != 2 || links[0][0] != links[1][0] || links[0][1] != c.Reference {
		t.Fatalf("status links in the reply: %q\n%s", links, text)
	}
	token := links[0][2]
	if token == c.StatusToken {
		t.Error("the reply repeats the original token")
	}
	n, err := d.st.Ent.ActionToken.Query().Where(actiontoken.CaseID(c.ID), actiontoken.PurposeEQ(actiontoken.PurposeCaseStatus)).Count(ctx)
	if err != nil || n != 1 {
		t.Errorf("%d status link tokens minted (%v), want 1", n, err)
	}

	// The new link opens the status page, and the old one still does.
	v, err := d.in.Status(ctx, c.Reference, token)
	if err != nil {
		t.Fatalf("status page with the minted link: %v", err)
	}
	if !strings.Contains(statusText(v), "needs one more answer") {
		t.Errorf("status page:\n%s", statusText(v))
	}
	if _, err := d.in.Status(ctx, c.Reference, c.StatusToken); err != nil {
		t.Errorf("the original link stopped working: %v", err)
	}
	// It opens only its own case, and only until it expires.
	if _, err := d.in.Status(ctx, other.Reference, token); !errors.Is(err, desk.ErrNotFound) {
		t.Errorf("minted link on another case: %v", err)
	}
	if err := d.st.Ent.ActionToken.Update().Where(actiontoken.CaseID(c.ID), actiontoken.PurposeEQ(actiontoken.PurposeCaseStatus)).
		SetExpiresAt(time.Now().Add(-time.Minute)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.in.Status(ctx, c.Reference, token); !errors.Is(err, desk.ErrNotFound) {
		t.Errorf("expired minted link: %v", err)
	}

	// A reply without the placeholder mints nothing.
	if err := d.tr.Reply(ctx, other.Reference, agent, "No link here."); err != nil {
		t.Fatal(err)
	}
	if n, _ := d.st.Ent.ActionToken.Query().Where(actiontoken.CaseID(other.ID), actiontoken.PurposeEQ(actiontoken.PurposeCaseStatus)).Count(ctx); n != 0 {
		t.Errorf("%d tokens minted for a reply without a link", n)
	}
}
