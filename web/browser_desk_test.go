package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/evidenceitem"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/web"
)

// liveDeadline bounds the wait for the case page to show what the
// workers did: River picks jobs up within a second, and the page polls
// every 2 seconds while jobs run, every 10 seconds after.
const liveDeadline = 45 * time.Second

// TestBrowserEvidenceAppearsLive walks issue 5 as staff and requester
// meet it: a recovery request for a seeded account; the case page, whose
// evidence appears as the workers find it; the challenge link from the
// mail, answered "yes"; and the recommendation changing on the open case
// page, all without a reload.
func TestBrowserEvidenceAppearsLive(t *testing.T) {
	s := newBrowserStack(t)
	ctx := context.Background()
	db := testdb.Store(t).Ent
	a := seedDeskAccount(t, "")

	// The requester files the request from the account's second address,
	// answering the private questions right.
	req := s.profile(t, "requester")
	req.open(s.url("/recover"))
	req.do("fill in the recovery form",
		typeInto(field("recover-form", "username"), a.Username),
		typeInto(field("recover-form", "contact_email"), a.Home),
		typeInto(field("recover-form", "name"), "Ada Lovelace"),
		chromedp.Click(field("recover-form", "has_password")),
		typeInto(field("recover-form", "explanation"), "My phone with the authenticator app fell into the sea last week."),
		chromedp.SetValue(field("recover-form", "account_created"), "2019-03"),
		chromedp.SetValue(field("recover-form", "two_factor_method"), desk.MethodTOTP),
	)
	if status := req.load("send the form", chromedp.Click(tid("recover-submit"))); status != 200 {
		req.fatal("send the form", fmt.Errorf("status %d", status))
	}
	ref := req.text(tid("case-reference"))
	c, err := db.SupportCase.Query().Where(supportcase.Reference(ref)).Only(ctx)
	if err != nil {
		t.Fatalf("case %q: %v", ref, err)
	}
	if c.Intake.AccountCreated != "2019-03" || c.Intake.TwoFactorMethod != desk.MethodTOTP {
		t.Errorf("private answers stored as %+v", c.Intake)
	}

	// An agent, already signed in (with a second factor), opens the case.
	staff := s.profile(t, "agent")
	signInAsStaff(t, s, staff)
	staff.open(s.url("/desk/cases/" + ref))
	staff.do("mark the page, to notice a reload", chromedp.Evaluate[chromedp.Void](`window.rdNoReload = true`))

	staff.waitJS("evidence to appear", `document.querySelectorAll('#evidence-live [data-testid="evidence-summary"]').length > 0`)
	shown := staff.text(chromedp.CSS(`#evidence-live`))
	items, err := db.EvidenceItem.Query().Where(evidenceitem.CaseID(c.ID)).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, it := range items {
		if strings.Contains(shown, strings.Join(strings.Fields(it.Finding.Summary), " ")) {
			found = true
		}
	}
	if !found {
		staff.fatal("show stored evidence", fmt.Errorf("none of the %d stored items is shown", len(items)))
	}

	// Every check has run before the challenge is answered, so the
	// recommendation that follows rests on the answer.
	staff.waitJS("the checks to finish", `document.getElementById('evidence-live').dataset.busy === 'false'`)
	m := s.waitMail(t, a.Primary, ref)
	link := s.mailLink(t, m, desk.PathEmailChallenge)
	before := staff.text(tid("recommendation-text"))
	if before == (desk.RecommendApprove).Describe() {
		staff.fatal("recommend before the answer", fmt.Errorf("already %q", before))
	}

	req.open(link)
	if got := req.text(tid("challenge-email")); !strings.Contains(got, "Is recovery request "+ref+" yours?") {
		req.fatal("read the challenge", fmt.Errorf("page reads %q", got))
	}
	req.load("answer yes", chromedp.Click(tid("challenge-yes")))
	if got := req.text(tid("challenge-result")); !strings.Contains(got, "we recorded that you can read mail at "+a.Primary) {
		req.fatal("answer the challenge", fmt.Errorf("page reads %q", got))
	}

	staff.waitJS("the recommendation to change",
		fmt.Sprintf(`document.querySelector('[data-testid="recommendation-text"]').textContent.trim() === %q`, desk.RecommendApprove.Describe()))
	if reloaded := !staff.evalBool(`window.rdNoReload === true`); reloaded {
		staff.fatal("update in place", fmt.Errorf("the page was reloaded"))
	}
	if got := staff.text(chromedp.CSS(`#evidence-live`)); !strings.Contains(got, "Proof of control") || !strings.Contains(got, a.Primary) {
		staff.fatal("show the proof", fmt.Errorf("region reads %q", got))
	}
}

// signInAsStaff gives the tab's browser the session cookie of a new agent
// with an authenticator app, as a finished sign-in would (the sign-in
// itself has its own browser tests).
func signInAsStaff(t *testing.T, s *browserStack, b *tab) {
	t.Helper()
	ctx := context.Background()
	db := testdb.Store(t).Ent
	name := fmt.Sprintf("agent%d_%d", time.Now().UnixNano()%1e9, userSeq.Add(1))
	u, err := db.User.Create().SetUsername(name).SetUsernameNormalized(name).SetStaffRole(user.StaffRoleAgent).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := account.NewTOTPSecret()
	if err := db.TOTPCredential.Create().SetUserID(u.ID).SetSecret(secret).SetConfirmedAt(time.Now()).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	token, err := s.account.Sessions.Create(ctx, nil, u.ID, account.SessionMeta{IP: b.ip, UserAgent: "chromium", AuthMethods: []string{"password", "totp"}})
	if err != nil {
		t.Fatal(err)
	}
	httpOnly := true
	callCtx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Call(callCtx, network.SetCookie, network.SetCookieParams{
		Name: web.SessionCookie, Value: token, URL: s.url("/"), Path: "/", HTTPOnly: &httpOnly, SameSite: network.CookieSameSiteLax,
	}); err != nil {
		b.fatal("set the session cookie", err)
	}
}

// waitJS waits, within liveDeadline, until expression is true in the page
// the tab shows.
func (b *tab) waitJS(what, expression string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, liveDeadline+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expression,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(liveDeadline))); err != nil {
		b.fatal("wait for "+what, err)
	}
}

// evalBool evaluates a JavaScript expression in the page.
func (b *tab) evalBool(expression string) bool {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expression))
	if err != nil {
		b.fatal("evaluate "+expression, err)
	}
	return v
}
