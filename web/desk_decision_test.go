package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/resetrequest"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/web"
)

// keySession signs u in on a new client with a security key (the session
// a reset approval needs).
func keySession(t *testing.T, b *bundle, u *secUser) *client {
	t.Helper()
	c := newClient(t, b.app)
	token, err := b.account.Sessions.Create(context.Background(), nil, u.ID,
		account.SessionMeta{IP: c.ip, UserAgent: secFirefox, AuthMethods: []string{"password", "webauthn"}})
	if err != nil {
		t.Fatal(err)
	}
	c.setCookie(web.SessionCookie, token)
	return c
}

// decisionCase inserts a recovery case about accountID with the
// assessment's recommendation rec, and returns its reference.
func decisionCase(t *testing.T, accountID int, rec desk.Recommendation) (int, string) {
	t.Helper()
	ref, err := desk.NewReference()
	if err != nil {
		t.Fatal(err)
	}
	contact := fmt.Sprintf("req%d_%d@contact.example", time.Now().UnixNano()%1e9, userSeq.Add(1))
	c := testdb.Store(t).Ent.SupportCase.Create().SetReference(ref).SetSubject("Lost my phone").
		SetRequesterEmail(contact).SetRequesterEmailNormalized(contact).SetStatusTokenHash([]byte(ref)).
		SetAccountID(accountID).SetRecommendation(string(rec)).SaveX(context.Background())
	return c.ID, ref
}

// deskPost posts a decision form with the client's CSRF token.
func deskPost(t *testing.T, c *client, path string, form url.Values) response {
	t.Helper()
	form.Set(web.CSRFField, tokenFromPage(t, c, "/account/security"))
	return c.postForm(path, form)
}

func TestDeskApproveRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	db := testdb.Store(t).Ent
	owner := newSecUser(t, b, secOpts{totp: true})
	caseID, ref := decisionCase(t, owner.ID, desk.RecommendApprove)
	path := "/desk/cases/" + ref + "/approve"
	form := func() url.Values { return url.Values{"approve_reason": {"Confirmed from the verified address."}} }

	agent := newStaff(t, b, user.StaffRoleAgent)
	wantStatus(t, deskPost(t, keySession(t, b, agent), path, form()), http.StatusForbidden)
	admin := newStaff(t, b, user.StaffRoleAdmin)
	r := deskPost(t, admin.c, path, form()) // signed in with TOTP
	wantStatus(t, r, http.StatusForbidden)
	if !strings.Contains(r.body, "Sign in with your security key") {
		t.Errorf("the 403 does not say to sign in with a security key:\n%s", r.body)
	}
	if n := db.ResetRequest.Query().Where(resetrequest.CaseID(caseID)).CountX(context.Background()); n != 0 {
		t.Fatalf("%d resets after refusals", n)
	}

	withKey := keySession(t, b, admin)
	r = deskPost(t, withKey, path, url.Values{"approve_reason": {" "}, "immediate": {"1"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	d := parse(t, r.body)
	if !strings.Contains(text(d.testID("error-approve_reason")), "reason") || !d.hasTestID("error-immediate") {
		t.Errorf("errors not next to the fields:\n%s", r.body)
	}

	r = deskPost(t, withKey, path, form())
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/desk/cases/"+ref {
		t.Errorf("redirect to %q", loc)
	}
	rr := db.ResetRequest.Query().Where(resetrequest.CaseID(caseID)).OnlyX(context.Background())
	if rr.Status != resetrequest.StatusScheduled || rr.ApprovedByID != admin.ID {
		t.Errorf("reset %s by %d", rr.Status, rr.ApprovedByID)
	}
}

func TestDeskSecondAdminRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	owner := newSecUser(t, b, secOpts{totp: true})
	caseID, ref := decisionCase(t, owner.ID, desk.RecommendChallenge)
	path := "/desk/cases/" + ref + "/approve"
	first := keySession(t, b, newStaff(t, b, user.StaffRoleAdmin))
	wantStatus(t, deskPost(t, first, path, url.Values{"approve_reason": {"Looks right."}}), http.StatusSeeOther)
	r := deskPost(t, first, path, url.Values{"approve_reason": {"Still right."}})
	wantStatus(t, r, http.StatusConflict)
	if !strings.Contains(text(parse(t, r.body).testID("decision-problem")), "a second admin must approve") {
		t.Errorf("same admin twice:\n%s", r.body)
	}
	second := keySession(t, b, newStaff(t, b, user.StaffRoleAdmin))
	wantStatus(t, deskPost(t, second, path, url.Values{"approve_reason": {"Agreed."}}), http.StatusSeeOther)
	c := testdb.Store(t).Ent.SupportCase.GetX(context.Background(), caseID)
	if c.Status != supportcase.StatusResetScheduled {
		t.Errorf("case %s after two admins", c.Status)
	}
}

func TestDeskDenyAndMoreInfoRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	db := testdb.Store(t).Ent
	owner := newSecUser(t, b, secOpts{totp: true})
	agent := newStaff(t, b, user.StaffRoleAgent)

	askID, ask := decisionCase(t, owner.ID, desk.RecommendNeedMoreInfo)
	r := deskPost(t, agent.c, "/desk/cases/"+ask+"/more-info", url.Values{"more_info": {""}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	parse(t, r.body).testID("error-more_info")
	wantStatus(t, deskPost(t, agent.c, "/desk/cases/"+ask+"/more-info", url.Values{"more_info": {"Which projects did you publish?"}}), http.StatusSeeOther)
	if c := db.SupportCase.GetX(context.Background(), askID); c.Status != supportcase.StatusWaitingOnRequester {
		t.Errorf("case %s after asking", c.Status)
	}

	denyID, deny := decisionCase(t, owner.ID, desk.RecommendDeny)
	r = deskPost(t, agent.c, "/desk/cases/"+deny+"/deny", url.Values{"deny_reason": {""}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	d := parse(t, r.body)
	d.testID("error-deny_reason")
	if got := text(d.testID("approve-blocked")); got != "Only an admin can approve a reset." || d.hasTestID("approve-form") {
		t.Errorf("the panel shows an agent %q", got)
	}
	wantStatus(t, deskPost(t, agent.c, "/desk/cases/"+deny+"/deny", url.Values{"deny_reason": {"The owner said no."}}), http.StatusSeeOther)
	if c := db.SupportCase.GetX(context.Background(), denyID); c.Status != supportcase.StatusDenied {
		t.Errorf("case %s after denying", c.Status)
	}
	// Not staff: refused before the handler (403 when signed in).
	wantStatus(t, deskPost(t, owner.c, "/desk/cases/"+deny+"/deny", url.Values{"deny_reason": {"x"}}), http.StatusForbidden)
}
