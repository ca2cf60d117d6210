package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/resetrequest"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/web"
)

var cancelPathRE = regexp.MustCompile(regexp.QuoteMeta(testBase) + `(` + regexp.QuoteMeta(desk.PathResetCancel) + `\?token=[A-Za-z0-9_-]+)`)

// scheduledReset approves the reset of a fresh case about a fresh account
// and returns the case and the cancel link's path from the mail.
func scheduledReset(t *testing.T, b *bundle) (caseID int, ref, cancelPath string) {
	t.Helper()
	ctx := context.Background()
	owner := newSecUser(t, b, secOpts{totp: true})
	caseID, ref = decisionCase(t, owner.ID, desk.RecommendApprove)
	admin := newStaff(t, b, user.StaffRoleAdmin)
	if _, err := b.triage.Approve(ctx, ref, desk.Actor{UserID: admin.ID, WebAuthn: true}, desk.ApproveInput{Reason: "Proven."}); err != nil {
		t.Fatal(err)
	}
	m := testdb.Store(t).Ent.OutboundMail.Query().
		Where(outboundmail.CaseID(caseID), outboundmail.Purpose(desk.MailResetScheduled)).FirstX(ctx)
	sub := cancelPathRE.FindStringSubmatch(m.BodyText)
	if sub == nil {
		t.Fatalf("no cancel link in:\n%s", m.BodyText)
	}
	return caseID, ref, sub[1]
}

func TestResetCancelPages(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	db := testdb.Store(t).Ent
	caseID, _, path := scheduledReset(t, b)
	token, _ := url.ParseQuery(strings.SplitN(path, "?", 2)[1])
	c := newClient(t, b.app)

	// The GET shows what is scheduled and does not spend the link.
	for range 2 {
		r := c.get(path)
		wantStatus(t, r, http.StatusOK)
		d := parse(t, r.body)
		d.testID("reset-cancel-form")
		if !strings.Contains(text(d.testID("reset-cancel-when")), "UTC") {
			t.Errorf("no time on the page:\n%s", r.body)
		}
	}
	if got := db.ResetRequest.Query().Where(resetrequest.CaseID(caseID)).OnlyX(context.Background()); got.Status != resetrequest.StatusScheduled {
		t.Fatalf("a GET changed the reset to %s", got.Status)
	}
	csrf := tokenFromPage(t, c, path)
	r := c.postForm(desk.PathResetCancel, url.Values{web.CSRFField: {csrf}, "token": {token.Get("token")}})
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(text(parse(t, r.body).testID("reset-cancel-result")), "Nothing changes") {
		t.Errorf("cancel page:\n%s", r.body)
	}
	if got := db.SupportCase.GetX(context.Background(), caseID); got.Status != supportcase.StatusReadyForDecision {
		t.Errorf("case %s after the cancel", got.Status)
	}
	// Reused.
	r = c.postForm(desk.PathResetCancel, url.Values{web.CSRFField: {csrf}, "token": {token.Get("token")}})
	wantStatus(t, r, http.StatusGone)
	if !strings.Contains(r.body, "already cancelled") {
		t.Errorf("reused link page:\n%s", r.body)
	}
	wantStatus(t, c.get(path), http.StatusGone)
	// Forged.
	r = c.get(desk.PathResetCancel + "?token=forged")
	wantStatus(t, r, http.StatusNotFound)
	if d := parse(t, r.body); d.hasTestID("reset-cancel-form") || !strings.Contains(text(d.testID("reset-cancel-result")), "whole link") {
		t.Errorf("forged link page:\n%s", r.body)
	}
	wantStatus(t, c.postForm(desk.PathResetCancel, url.Values{web.CSRFField: {csrf}, "token": {"forged"}}), http.StatusNotFound)
}

func TestResetCancelLinkExpires(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	caseID, _, path := scheduledReset(t, b)
	// The reset's time has come.
	if _, err := testdb.Store(t).Pool.Exec(context.Background(),
		`UPDATE reset_requests SET scheduled_for = now() - interval '1 minute' WHERE case_id = $1`, caseID); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, b.app)
	r := c.get(path)
	wantStatus(t, r, http.StatusGone)
	if d := parse(t, r.body); d.hasTestID("reset-cancel-form") || !strings.Contains(r.body, "expired") {
		t.Errorf("expired link page:\n%s", r.body)
	}
	token, _ := url.ParseQuery(strings.SplitN(path, "?", 2)[1])
	csrf := tokenFromPage(t, c, "/login")
	wantStatus(t, c.postForm(desk.PathResetCancel, url.Values{web.CSRFField: {csrf}, "token": {token.Get("token")}}), http.StatusGone)
}

// TestBrowserAdminApprovesWithKeyOwnerCancels walks the decision in a
// browser: an admin adds a virtual security key, signs in with it,
// approves a case's reset from the case page, and the account's owner
// cancels it with the link from the captured mail.
func TestBrowserAdminApprovesWithKeyOwnerCancels(t *testing.T) {
	s := newBrowserStack(t)
	ctx := context.Background()
	db := testdb.Store(t).Ent
	name := uniqueName("approver")
	hash, err := account.HashPassword(browserPassword, cheapPasswords)
	if err != nil {
		t.Fatal(err)
	}
	admin := db.User.Create().SetUsername(name).SetUsernameNormalized(name).SetPasswordHash(hash).
		SetStaffRole(user.StaffRoleAdmin).SaveX(ctx)
	db.EmailAddress.Create().SetUserID(admin.ID).SetAddress(name + "@staff.example").SetAddressNormalized(name + "@staff.example").
		SetPrimary(true).SetVerifiedAt(time.Now()).ExecX(ctx)
	ownerName := uniqueName("resetowner")
	owner := db.User.Create().SetUsername(ownerName).SetUsernameNormalized(ownerName).SaveX(ctx)
	db.EmailAddress.Create().SetUserID(owner.ID).SetAddress(ownerName + "@example.org").SetAddressNormalized(ownerName + "@example.org").
		SetPrimary(true).SetVerifiedAt(time.Now()).ExecX(ctx)
	caseID, ref := decisionCase(t, owner.ID, desk.RecommendApprove)

	b := s.profile(t, "admin")
	addVirtualAuthenticator(b)
	b.open(s.url("/login"))
	logIn(b, name, browserPassword)
	b.waitPath("/", stepTimeout)
	b.open(s.url("/account/security"))
	b.do("name the key", typeInto(chromedp.CSS("#key-name"), "Desk key"))
	b.ceremony("add a security key", chromedp.CSS(`[data-testid=key-register] button`),
		`!!document.querySelector("[data-testid=key]")`)
	logOut(b)
	b.open(s.url("/login"))
	logIn(b, name, browserPassword)
	b.waitPath("/login/2fa", stepTimeout)
	b.ceremony("sign in with the key", tid("key-button"), `location.pathname === "/"`)

	b.open(s.url("/desk/cases/" + ref))
	b.do("give the reason", typeInto(field("approve-form", "approve_reason"), "Confirmed from the verified address."))
	if status := b.load("approve", chromedp.Click(tid("approve-submit"))); status != 200 {
		b.fatal("approve", fmt.Errorf("the case page after approving answered %d", status))
	}
	if got := b.text(tid("reset-status")); got != "scheduled" {
		b.fatal("see the scheduled reset", fmt.Errorf("the reset status reads %q", got))
	}

	m := s.waitMail(t, owner.Username+"@example.org", "will be reset")
	link := s.mailLink(t, m, desk.PathResetCancel)
	o := s.profile(t, "owner")
	o.open(link)
	if status := o.load("cancel", chromedp.Click(tid("reset-cancel-submit"))); status != 200 {
		o.fatal("cancel", fmt.Errorf("status %d", status))
	}
	if got := o.text(tid("reset-cancel-result")); !strings.Contains(got, "Nothing changes") {
		o.fatal("read the confirmation", fmt.Errorf("the page says %q", got))
	}
	if r := db.ResetRequest.Query().Where(resetrequest.CaseID(caseID)).OnlyX(ctx); r.Status != resetrequest.StatusCancelled {
		t.Fatalf("reset %s after the owner's cancel", r.Status)
	}
}
