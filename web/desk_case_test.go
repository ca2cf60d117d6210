package web_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/web"
)

// casePost posts form to the case action of dc as staff, with the CSRF
// token of the case page.
func casePost(t *testing.T, staff *secUser, ref, action string, form url.Values) response {
	t.Helper()
	path := "/desk/cases/" + ref
	form.Set(web.CSRFField, tokenFromPage(t, staff.c, path))
	return staff.c.postForm(path+"/"+action, form)
}

// wantFieldErrorPage checks a 422 answer shows the error next to field
// and keeps what was typed in it.
func wantFieldErrorPage(t *testing.T, r response, field, contains, kept string) doc {
	t.Helper()
	wantStatus(t, r, http.StatusUnprocessableEntity)
	d := parse(t, r.body)
	if got := text(d.testID("error-" + field)); !strings.Contains(got, contains) {
		t.Errorf("error next to %s: %q, want %q", field, got, contains)
	}
	if !d.hasTestID("error-summary") {
		t.Error("no error summary")
	}
	if kept != "" && !strings.Contains(text(d.testID("field-"+field)), kept) {
		if v := fieldValue(d, field); v != kept {
			t.Errorf("%s lost what was typed: %q, want %q", field, v, kept)
		}
	}
	return d
}

// fieldValue is the value of an input or textarea called name.
func fieldValue(d doc, name string) string {
	for _, n := range d.all(hasAttr("name", name)) {
		if n.Data == "textarea" {
			return strings.TrimPrefix(rawText(n), "\n")
		}
		if n.Data == "input" {
			v, _ := attr(n, "value")
			return v
		}
	}
	return ""
}

func TestDeskCaseActionsNeedStaffAndCSRF(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	dc := fileDeskCase(t, b, seedDeskAccount(t, ""), "")
	casePath := "/desk/cases/" + dc.Reference
	actions := []string{"reply", "note", "assign", "status", "tags", "merge", "presence"}

	anon := newClient(t, b.app)
	member := newStaff(t, b, user.StaffRoleNone)
	agent := newStaff(t, b, user.StaffRoleAgent)
	anonToken := tokenFromPage(t, anon, "/recover")
	memberToken := tokenFromPage(t, member.c, "/account/security")
	for _, a := range actions {
		r := anon.postForm(casePath+"/"+a, url.Values{web.CSRFField: {anonToken}, "body": {"x"}})
		wantStatus(t, r, http.StatusSeeOther)
		if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "/login") {
			t.Errorf("anonymous POST %s: redirect to %q", a, loc)
		}
		wantStatus(t, member.c.postForm(casePath+"/"+a, url.Values{web.CSRFField: {memberToken}, "body": {"x"}}), http.StatusForbidden)
		wantCSRFRefusal(t, agent.c.postForm(casePath+"/"+a, url.Values{"body": {"x"}, "note": {"x"}, "into": {"RD-222222"}}))
	}
	c := testdb.Store(t).Ent.SupportCase.GetX(context.Background(), dc.ID)
	if c.Status != supportcase.StatusNew || c.AssigneeID != nil || len(c.Tags) != 0 {
		t.Errorf("refused posts changed the case: %+v", c)
	}
	if n := c.QueryMessages().CountX(context.Background()); n != 1 {
		t.Errorf("%d messages after refused posts, want the request alone", n)
	}
}

func TestDeskCaseReplyAndNote(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	dc := fileDeskCase(t, b, seedDeskAccount(t, ""), "")
	agent := newStaff(t, b, user.StaffRoleAgent)
	casePath := "/desk/cases/" + dc.Reference

	d := parse(t, agent.c.get(casePath).body)
	for _, id := range []string{"reply-form", "note-form", "assign-form", "status-form", "tags-form", "merge-form", "desk-timeline", "desk-audit", "desk-presence"} {
		if !d.hasTestID(id) {
			t.Errorf("case page lacks %s", id)
		}
	}
	if got := text(d.testID("desk-sla-first-response")); !strings.HasPrefix(got, "Due ") {
		t.Errorf("first response SLA %q", got)
	}

	// Refused: an empty reply, and a status only a decision sets; the
	// typed text comes back.
	wantFieldErrorPage(t, casePost(t, agent, dc.Reference, "reply", url.Values{"body": {"  "}}), "body", "Write the reply", "")
	wantFieldErrorPage(t, casePost(t, agent, dc.Reference, "reply", url.Values{"body": {"Kept text"}, "reply_status": {"resolved"}}), "reply_status", "decision", "")
	r := casePost(t, agent, dc.Reference, "reply", url.Values{"body": {"Kept text"}, "reply_status": {"resolved"}})
	if got := fieldValue(parse(t, r.body), "body"); got != "Kept text" {
		t.Errorf("reply text after a refusal: %q", got)
	}

	r = casePost(t, agent, dc.Reference, "reply", url.Values{"body": {"When did you create the account, {{requester_name}}?"}})
	wantSeeOther(t, r, casePath)
	if got := flashAfter(t, agent.c, r); !strings.Contains(got, "Reply sent") {
		t.Errorf("flash %q", got)
	}
	d = parse(t, agent.c.get(casePath).body)
	if got := text(d.testID("desk-case-status")); got != "Waiting on requester" {
		t.Errorf("status after the reply: %q", got)
	}
	if got := text(d.testID("desk-sla-first-response")); !strings.HasPrefix(got, "Met") {
		t.Errorf("first response SLA after a reply: %q", got)
	}
	var replied bool
	for _, e := range rowsOf(d, "timeline-entry") {
		if k, _ := attr(e, "data-kind"); k == desk.EntryOutbound {
			replied = strings.Contains(text(e), "When did you create the account, Ada Lovelace?") && strings.Contains(text(e), "Queued")
		}
	}
	if !replied {
		t.Errorf("timeline lacks the reply with its delivery status: %q", text(d.testID("desk-timeline")))
	}

	wantFieldErrorPage(t, casePost(t, agent, dc.Reference, "note", url.Values{"note": {strings.Repeat("n", desk.MaxReplyBytes+1)}}), "note", "Shorten", "")
	r = casePost(t, agent, dc.Reference, "note", url.Values{"note": {"Looks like the owner; the phone story matches."}})
	wantSeeOther(t, r, casePath)
	d = parse(t, agent.c.get(casePath).body)
	if !strings.Contains(text(d.testID("desk-timeline")), "Internal note by "+agent.Username) {
		t.Errorf("timeline lacks the note: %q", text(d.testID("desk-timeline")))
	}
	status := newClient(t, b.app).get(dc.StatusPath)
	wantStatus(t, status, http.StatusOK)
	if strings.Contains(status.body, "phone story matches") {
		t.Error("the requester's status page shows an internal note")
	}
	if !strings.Contains(status.body, "When did you create the account") {
		t.Error("the requester's status page lacks the reply")
	}
	audit := text(d.testID("desk-audit"))
	for _, want := range []string{"case replied", "case note added", "agent " + agent.Username} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit trail lacks %q: %q", want, audit)
		}
	}
}

func TestDeskCaseCannedReplyWithoutJS(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	dc := fileDeskCase(t, b, seedDeskAccount(t, ""), "")
	admin := newStaff(t, b, user.StaffRoleAdmin)
	canned, err := b.triage.CreateCanned(context.Background(), desk.Actor{UserID: admin.ID},
		fmt.Sprintf("More info %d", userSeq.Add(1)), "Please answer on {{status_link}} about {{reference}}.")
	if err != nil {
		t.Fatal(err)
	}
	d := parse(t, admin.c.get("/desk/cases/"+dc.Reference).body)
	var offered bool
	for _, o := range all(d.testID("field-canned"), isTag("option")) {
		if v, _ := attr(o, "value"); v == strconv.Itoa(canned.ID) {
			body, _ := attr(o, "data-body")
			offered = body == canned.Body && text(o) == canned.Name
		}
	}
	if !offered {
		t.Errorf("the reply form does not offer the canned reply with its text: %q", text(d.testID("reply-form")))
	}
	r := casePost(t, admin, dc.Reference, "reply", url.Values{"use": {"1"}, "canned": {strconv.Itoa(canned.ID)}, "body": {"Hello,"}})
	wantStatus(t, r, http.StatusOK)
	if got := fieldValue(parse(t, r.body), "body"); got != "Hello,\n\n"+canned.Body {
		t.Errorf("reply box after Use: %q", got)
	}
	wantFieldErrorPage(t, casePost(t, admin, dc.Reference, "reply", url.Values{"use": {"1"}, "canned": {""}}), "canned", "Choose a canned reply", "")

	// Sent, the placeholders are filled in and the link works.
	r = casePost(t, admin, dc.Reference, "reply", url.Values{"body": {canned.Body}})
	wantSeeOther(t, r, "/desk/cases/"+dc.Reference)
	d = parse(t, admin.c.get("/desk/cases/"+dc.Reference).body)
	tl := text(d.testID("desk-timeline"))
	i := strings.Index(tl, testBase+desk.PathCaseStatus+dc.Reference+"?token=")
	if i < 0 || !strings.Contains(tl, "about "+dc.Reference+".") {
		t.Fatalf("reply on the timeline lacks the filled placeholders: %q", tl)
	}
	link := strings.Fields(tl[i:])[0]
	status := newClient(t, b.app).get(strings.TrimPrefix(link, testBase))
	wantStatus(t, status, http.StatusOK)
}

func TestDeskCaseAssignStatusTags(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	dc := fileDeskCase(t, b, seedDeskAccount(t, ""), "")
	agent := newStaff(t, b, user.StaffRoleAgent)
	admin := newStaff(t, b, user.StaffRoleAdmin)
	member := newStaff(t, b, user.StaffRoleNone)
	casePath := "/desk/cases/" + dc.Reference

	// A case past its first-response deadline says so in words.
	if err := testdb.Store(t).Ent.SupportCase.UpdateOneID(dc.ID).SetFirstResponseDue(time.Now().Add(-3 * time.Hour)).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	sla := parse(t, agent.c.get(casePath).body).testID("desk-sla-first-response")
	if got := text(sla); !strings.HasPrefix(got, "Overdue by 3 hours") || !strings.Contains(mustAttr(t, sla, "class"), "sla-overdue") {
		t.Errorf("overdue first response: %q", got)
	}

	r := casePost(t, agent, dc.Reference, "assign", url.Values{"take": {"1"}})
	wantSeeOther(t, r, casePath)
	if got := flashAfter(t, agent.c, r); !strings.Contains(got, "You took the case") {
		t.Errorf("flash %q", got)
	}
	wantFieldErrorPage(t, casePost(t, admin, dc.Reference, "assign", url.Values{"assignee": {strconv.Itoa(member.ID)}}), "assignee", "support staff", "")
	wantFieldErrorPage(t, casePost(t, admin, dc.Reference, "assign", url.Values{"assignee": {"nonsense"}}), "assignee", "support staff", "")
	other := newStaff(t, b, user.StaffRoleAgent)
	wantSeeOther(t, casePost(t, admin, dc.Reference, "assign", url.Values{"assignee": {strconv.Itoa(other.ID)}}), casePath)
	d := parse(t, agent.c.get(casePath).body)
	if got := text(d.testID("desk-case-assignee")); got != other.Username {
		t.Errorf("assignee %q, want %q", got, other.Username)
	}

	wantFieldErrorPage(t, casePost(t, agent, dc.Reference, "status", url.Values{"status": {"resolved"}, "reason": {"done"}}), "status", "decision", "")
	r = casePost(t, agent, dc.Reference, "status", url.Values{"status": {"ready_for_decision"}, "reason": {"all checks in"}})
	wantSeeOther(t, r, casePath)
	d = parse(t, agent.c.get(casePath).body)
	if got := text(d.testID("desk-case-status")); got != "Ready for decision" {
		t.Errorf("status %q", got)
	}
	if tl := text(d.testID("desk-timeline")); !strings.Contains(tl, "Status changed from new to ready for decision: all checks in") {
		t.Errorf("timeline: %q", tl)
	}

	wantFieldErrorPage(t, casePost(t, agent, dc.Reference, "tags", url.Values{"tags": {"vip bad!tag"}}), "tags", "not a tag", "vip bad!tag")
	wantSeeOther(t, casePost(t, agent, dc.Reference, "tags", url.Values{"tags": {"VIP, lost-phone"}}), casePath)
	d = parse(t, agent.c.get(casePath).body)
	if got := text(d.testID("desk-case-tags")); got != "vip lost-phone" {
		t.Errorf("tags %q", got)
	}
	if got := fieldValue(d, "tags"); got != "vip, lost-phone" {
		t.Errorf("tags field %q", got)
	}
	audit := text(d.testID("desk-audit"))
	for _, want := range []string{"case taken", "case assigned", "case status changed", "case tags changed"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit trail lacks %q: %q", want, audit)
		}
	}
}

func TestDeskCaseMergeRedirects(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	a := seedDeskAccount(t, "")
	into := fileDeskCase(t, b, a, "")
	dup := fileDeskCase(t, b, a, a.Primary)
	agent := newStaff(t, b, user.StaffRoleAgent)

	wantFieldErrorPage(t, casePost(t, agent, dup.Reference, "merge", url.Values{"into": {dup.Reference}}), "into", "itself", dup.Reference)
	wantFieldErrorPage(t, casePost(t, agent, dup.Reference, "merge", url.Values{"into": {"RD-222222"}}), "into", "No case", "RD-222222")

	r := casePost(t, agent, dup.Reference, "merge", url.Values{"into": {strings.ToLower(into.Reference)}})
	wantSeeOther(t, r, "/desk/cases/"+into.Reference)
	if got := flashAfter(t, agent.c, r); !strings.Contains(got, dup.Reference+" was merged into this case") {
		t.Errorf("flash %q", got)
	}
	old := agent.c.get("/desk/cases/" + dup.Reference)
	wantSeeOther(t, old, "/desk/cases/"+into.Reference)
	d := parse(t, agent.c.get("/desk/cases/"+into.Reference).body)
	if tl := text(d.testID("desk-timeline")); !strings.Contains(tl, dup.Reference+" merged into this case") {
		t.Errorf("survivor's timeline: %q", tl)
	}
	if au := text(d.testID("desk-audit")); !strings.Contains(au, "case merged") || !strings.Contains(au, dup.Reference) {
		t.Errorf("survivor's audit trail: %q", au)
	}
	// Acting on the old reference is refused and sends staff to the survivor.
	r = agent.c.postForm("/desk/cases/"+dup.Reference+"/note", url.Values{web.CSRFField: {tokenFromPage(t, agent.c, "/desk/cases/"+into.Reference)}, "note": {"x"}})
	wantSeeOther(t, r, "/desk/cases/"+into.Reference)
	if got := flashAfter(t, agent.c, r); !strings.Contains(got, "merged into "+into.Reference) {
		t.Errorf("flash after acting on a merged case: %q", got)
	}
}

func TestDeskCasePresenceBanner(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	dc := fileDeskCase(t, b, seedDeskAccount(t, ""), "")
	sam := newStaff(t, b, user.StaffRoleAgent)
	kim := newStaff(t, b, user.StaffRoleAdmin)
	casePath := "/desk/cases/" + dc.Reference

	d := parse(t, sam.c.get(casePath).body)
	banner := d.testID("desk-presence")
	if mustAttr(t, banner, "role") != "status" || mustAttr(t, banner, "data-src") != casePath+"/presence" || text(banner) != "" {
		t.Errorf("banner while alone: %q", text(banner))
	}
	d = parse(t, kim.c.get(casePath).body)
	if got := text(d.testID("desk-presence")); !strings.Contains(got, sam.Username+" is also viewing this case") {
		t.Errorf("kim's banner: %q", got)
	}

	// The script's refresh: a POST with the page's token in a header
	// answers the banner alone.
	token := tokenFromPage(t, sam.c, casePath)
	r := sam.c.postForm(casePath+"/presence", url.Values{}, web.CSRFHeader, token)
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(r.body, "<html") {
		t.Error("the presence fragment carries the layout")
	}
	frag := parse(t, r.body).testID("desk-presence")
	if got := text(frag); !strings.Contains(got, kim.Username+" is also viewing this case") {
		t.Errorf("sam's fragment: %q", got)
	}
	wantStatus(t, sam.c.postForm("/desk/cases/RD-222222/presence", url.Values{}, web.CSRFHeader, token), http.StatusNotFound)
}

// TestBrowserDeskPresenceAndCannedReply opens one case as two agents: the
// one who came first learns of the second without reloading, and picking
// a canned reply fills the reply box.
func TestBrowserDeskPresenceAndCannedReply(t *testing.T) {
	s := newBrowserStack(t)
	ctx := context.Background()
	db := testdb.Store(t).Ent
	ref, err := desk.NewReference()
	if err != nil {
		t.Fatal(err)
	}
	hash := sha256.Sum256([]byte(ref))
	addr := fmt.Sprintf("requester%d@elsewhere.example", userSeq.Add(1))
	if err := db.SupportCase.Create().SetReference(ref).SetSubject("Lost my phone").SetRequesterEmail(addr).
		SetRequesterEmailNormalized(addr).SetStatusTokenHash(hash[:]).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	canned, err := db.CannedReply.Create().SetName(fmt.Sprintf("Ask for a date %d", userSeq.Add(1))).
		SetBody("When did you create the account? Case {{reference}}.").Save(ctx)
	if err != nil {
		t.Fatal(err)
	}

	sam := s.profile(t, "sam")
	signInAsStaff(t, s, sam)
	sam.open(s.url("/desk/cases/" + ref))
	if got := sam.text(tid("desk-presence")); got != "" {
		sam.fatal("open the case alone", fmt.Errorf("banner reads %q", got))
	}
	sam.do("mark the page, to notice a reload", chromedp.Evaluate[chromedp.Void](`window.rdNoReload = true`))

	kim := s.profile(t, "kim")
	signInAsStaff(t, s, kim)
	kim.open(s.url("/desk/cases/" + ref))
	if got := kim.text(tid("desk-presence")); !strings.Contains(got, "is also viewing this case") {
		kim.fatal("see sam on the case", fmt.Errorf("banner reads %q", got))
	}
	sam.waitJS("kim to appear in the banner", `document.getElementById('desk-presence').textContent.includes('is also viewing this case')`)
	if !sam.evalBool(`window.rdNoReload === true`) {
		sam.fatal("update in place", fmt.Errorf("the page was reloaded"))
	}

	sam.do("pick the canned reply",
		chromedp.SetValue(chromedp.CSS(`#field-canned`), strconv.Itoa(canned.ID)),
	)
	if got := sam.value(chromedp.CSS(`#field-body`)); got != canned.Body {
		sam.fatal("fill the reply box", fmt.Errorf("box holds %q", got))
	}
}
