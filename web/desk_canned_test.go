package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/recoverydesk/recoverydesk/ent/cannedreply"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/web"
)

const cannedPath = "/admin/canned-replies"

func TestCannedRepliesAdminPage(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	admin := newStaff(t, b, user.StaffRoleAdmin)
	agent := newStaff(t, b, user.StaffRoleAgent)
	name := fmt.Sprintf("Need more information %d", userSeq.Add(1))

	// Agents use canned replies but do not manage them.
	wantStatus(t, agent.c.get(cannedPath), http.StatusForbidden)
	wantStatus(t, agent.c.postForm(cannedPath, url.Values{web.CSRFField: {tokenFromPage(t, agent.c, "/account/security")}, "name": {name}, "body": {"x"}}), http.StatusForbidden)
	wantStatus(t, newClient(t, b.app).get(cannedPath), http.StatusSeeOther)

	r := admin.c.get(cannedPath)
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	wantLayout(t, d)
	docs := text(d.testID("canned-placeholders"))
	for _, p := range []string{"{{reference}}", "{{status_link}}", "{{requester_name}}"} {
		if !strings.Contains(docs, p) {
			t.Errorf("placeholders documentation lacks %s: %q", p, docs)
		}
	}
	wantCSRFRefusal(t, admin.c.postForm(cannedPath, url.Values{"name": {name}, "body": {"x"}}))

	token := tokenFromPage(t, admin.c, cannedPath)
	body := "Hello {{requester_name}}, tell us more on {{status_link}} ({{case_id}})."
	r = admin.c.postForm(cannedPath, url.Values{web.CSRFField: {token}, "name": {name}, "body": {body}})
	d = wantFieldErrorPage(t, r, "body", "{{case_id}}", "")
	if got := fieldValue(d, "body"); got != body {
		t.Errorf("body after a refusal: %q", got)
	}
	if got := fieldValue(d, "name"); got != name {
		t.Errorf("name after a refusal: %q", got)
	}

	body = "Hello {{requester_name}}, tell us more on {{status_link}} about {{reference}}."
	r = admin.c.postForm(cannedPath, url.Values{web.CSRFField: {token}, "name": {name}, "body": {body}})
	wantSeeOther(t, r, cannedPath)
	if got := flashAfter(t, admin.c, r); !strings.Contains(got, "Canned reply added") {
		t.Errorf("flash %q", got)
	}
	row := testdb.Store(t).Ent.CannedReply.Query().Where(cannedreply.Name(name)).OnlyX(t.Context())
	if row.Body != body || row.CreatedByID == nil || *row.CreatedByID != admin.ID {
		t.Errorf("stored %+v", row)
	}
	r = admin.c.postForm(cannedPath, url.Values{web.CSRFField: {token}, "name": {name}, "body": {"other"}})
	wantFieldErrorPage(t, r, "name", "already exists", "")

	// Edit: the form comes filled in and saves to the reply's address.
	edit := cannedPath + "?edit=" + strconv.Itoa(row.ID)
	d = parse(t, admin.c.get(edit).body)
	form := d.testID("canned-form")
	if action := mustAttr(t, form, "action"); action != cannedPath+"/"+strconv.Itoa(row.ID) {
		t.Errorf("edit form posts to %q", action)
	}
	if fieldValue(d, "name") != name || fieldValue(d, "body") != body {
		t.Errorf("edit form not filled in: %q / %q", fieldValue(d, "name"), fieldValue(d, "body"))
	}
	r = admin.c.postForm(cannedPath+"/"+strconv.Itoa(row.ID), url.Values{web.CSRFField: {token}, "name": {name + " (v2)"}, "body": {"Short text for {{reference}}"}})
	wantSeeOther(t, r, cannedPath)
	if got := testdb.Store(t).Ent.CannedReply.GetX(t.Context(), row.ID); got.Name != name+" (v2)" || got.Body != "Short text for {{reference}}" {
		t.Errorf("after edit: %+v", got)
	}
	r = admin.c.postForm(cannedPath+"/"+strconv.Itoa(row.ID), url.Values{web.CSRFField: {token}, "name": {""}, "body": {"x"}})
	wantFieldErrorPage(t, r, "name", "Give the reply a name", "")

	var listed bool
	for _, n := range rowsOf(parse(t, admin.c.get(cannedPath).body), "canned-reply") {
		listed = listed || strings.Contains(text(n), name+" (v2)")
	}
	if !listed {
		t.Error("the saved reply is not listed")
	}
	r = admin.c.postForm(cannedPath+"/"+strconv.Itoa(row.ID)+"/delete", url.Values{web.CSRFField: {token}})
	wantSeeOther(t, r, cannedPath)
	if got := flashAfter(t, admin.c, r); !strings.Contains(got, "deleted") {
		t.Errorf("flash %q", got)
	}
	if n := testdb.Store(t).Ent.CannedReply.Query().Where(cannedreply.ID(row.ID)).CountX(t.Context()); n != 0 {
		t.Error("the reply was not deleted")
	}
	r = admin.c.postForm(cannedPath+"/"+strconv.Itoa(row.ID)+"/delete", url.Values{web.CSRFField: {token}})
	wantSeeOther(t, r, cannedPath)
	wantStatus(t, admin.c.postForm(cannedPath+"/nonsense/delete", url.Values{web.CSRFField: {token}}), http.StatusNotFound)
}
