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

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/projectrole"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/web"
)

// accountMade is when seeded recovery accounts were made and their
// addresses verified: long before any case, so a confirmed address is
// proof of control rather than a recent change.
var accountMade = time.Date(2019, 3, 14, 10, 0, 0, 0, time.UTC)

// deskAccount is an account someone asks to recover.
type deskAccount struct {
	ID                int
	Username, Primary string
	// Home is a second verified address, the one its owner writes from.
	Home string
}

// seedDeskAccount creates an account made on accountMade with two
// verified addresses, an authenticator app, a project it owns with
// repository URL repo ("" for none) and one without a repository.
func seedDeskAccount(t *testing.T, repo string) deskAccount {
	t.Helper()
	ctx := context.Background()
	db := testdb.Store(t).Ent
	name := fmt.Sprintf("owner%d_%d", time.Now().UnixNano()%1e9, userSeq.Add(1))
	u, err := db.User.Create().SetUsername(name).SetUsernameNormalized(account.NormalizeUsername(name)).
		SetCreatedAt(accountMade).SetUpdatedAt(accountMade).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	primary, home := name+"@owner.example", name+"@home.example"
	for _, addr := range []string{primary, home} {
		if err := db.EmailAddress.Create().SetUserID(u.ID).SetAddress(addr).SetAddressNormalized(account.NormalizeEmail(addr)).
			SetPrimary(addr == primary).SetVerifiedAt(accountMade).SetCreatedAt(accountMade).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.TOTPCredential.Create().SetUserID(u.ID).SetSecret([]byte("12345678901234567890")).
		SetConfirmedAt(accountMade).SetCreatedAt(accountMade).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for i, r := range []string{repo, ""} {
		if i == 0 && repo == "" {
			continue
		}
		pname := fmt.Sprintf("%s-tool%d", name, i)
		create := db.Project.Create().SetName(pname).SetNameNormalized(account.NormalizeProjectName(pname)).SetCreatedAt(accountMade)
		if r != "" {
			create.SetRepositoryURL(r)
		}
		p, err := create.Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.ProjectRole.Create().SetProjectID(p.ID).SetUserID(u.ID).SetRole(projectrole.RoleOwner).SetCreatedAt(accountMade).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return deskAccount{ID: u.ID, Username: name, Primary: primary, Home: home}
}

// newStaff is a signed-in user with TOTP and the given staff role.
func newStaff(t *testing.T, b *bundle, role user.StaffRole) *secUser {
	t.Helper()
	u := newSecUser(t, b, secOpts{totp: true})
	if err := testdb.Store(t).Ent.User.UpdateOneID(u.ID).SetStaffRole(role).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	return u
}

// deskCase is a recovery case filed for a seeded account.
type deskCase struct {
	ID                    int
	Reference, StatusPath string
	Contact               string
}

// fileDeskCase files a recovery request for the account through the
// intake, from contact, or from the account's Home address when contact
// is "". The answers to the private questions are right.
func fileDeskCase(t *testing.T, b *bundle, a deskAccount, contact string) deskCase {
	t.Helper()
	ctx := context.Background()
	if contact == "" {
		contact = a.Home
	}
	n := clientSeq.Add(1)
	got, err := b.intake.Submit(ctx, desk.RecoveryForm{
		Username: a.Username, ContactEmail: contact, Name: "Ada Lovelace", HasPassword: true,
		Explanation:    "I lost my phone with the authenticator app and have no recovery codes.",
		AccountCreated: "2019-03", TwoFactorMethod: desk.MethodTOTP,
	}, desk.Origin{IP: fmt.Sprintf("10.200.%d.%d", n/256%256, n%256), UserAgent: "desk-test"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := testdb.Store(t).Ent.SupportCase.Query().Where(supportcase.Reference(got.Reference)).Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return deskCase{ID: c.ID, Reference: got.Reference, StatusPath: strings.TrimPrefix(got.StatusURL, testBase), Contact: contact}
}

// runEvidence runs evidence jobs synchronously, as a worker would.
func runEvidence(t *testing.T, ev *desk.Evidence, jobs ...desk.EvidenceArgs) {
	t.Helper()
	for _, j := range jobs {
		if err := ev.Run(context.Background(), j); err != nil {
			t.Fatalf("run %s: %v", j.Kind(), err)
		}
	}
}

// finishJobs marks the case's queued evidence jobs completed, as a River
// worker would once they ran (no River client runs in these tests).
func finishJobs(t *testing.T, caseID int) {
	t.Helper()
	_, err := testdb.Store(t).Pool.Exec(context.Background(),
		`UPDATE river_job SET state = 'completed', finalized_at = now(), attempt = 1, attempted_at = now()
		 WHERE metadata @> jsonb_build_object('case_id', $1::int) AND state <> 'completed'`, caseID)
	if err != nil {
		t.Fatal(err)
	}
}

var challengeLinkRE = regexp.MustCompile(regexp.QuoteMeta(testBase+desk.PathEmailChallenge) + `\?token=[^\s<>"]+`)

// challengePath is the path (with token) of the email challenge link
// queued for address on case c.
func challengePath(t *testing.T, caseID int, address string) string {
	t.Helper()
	m, err := testdb.Store(t).Ent.OutboundMail.Query().
		Where(outboundmail.CaseID(caseID), outboundmail.Purpose(desk.MailEmailChallenge), outboundmail.ToAddress(address)).
		Only(context.Background())
	if err != nil {
		t.Fatalf("challenge mail to %s: %v", address, err)
	}
	link := challengeLinkRE.FindString(m.BodyText)
	if link == "" {
		t.Fatalf("challenge mail to %s has no link:\n%s", address, m.BodyText)
	}
	return strings.TrimPrefix(link, testBase)
}

func TestDeskRoutesNeedStaff(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	a := seedDeskAccount(t, "https://git.example.org/tools.git")
	dc := fileDeskCase(t, b, a, "")
	casePath := "/desk/cases/" + dc.Reference
	gets := []string{"/desk", casePath, casePath + "/evidence"}
	post := casePath + "/repo-challenge"

	anon := newClient(t, b.app)
	for _, p := range gets {
		r := anon.get(p)
		wantStatus(t, r, http.StatusSeeOther)
		if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "/login") {
			t.Errorf("anonymous GET %s: redirect to %q, want the sign-in page", p, loc)
		}
	}
	r := anon.postForm(post, url.Values{web.CSRFField: {tokenFromPage(t, anon, "/recover")}, "project": {"x"}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "/login") {
		t.Errorf("anonymous POST: redirect to %q", loc)
	}

	member := newStaff(t, b, user.StaffRoleNone)
	for _, p := range gets {
		r := member.c.get(p)
		wantStatus(t, r, http.StatusForbidden)
		if got := text(parse(t, r.body).testID("main")); !strings.Contains(got, "This page is for support staff.") {
			t.Errorf("403 page of %s says %q", p, got)
		}
	}
	r = member.c.postForm(post, url.Values{web.CSRFField: {tokenFromPage(t, member.c, "/account/security")}, "project": {a.Username + "-tool0"}})
	wantStatus(t, r, http.StatusForbidden)

	for _, role := range []user.StaffRole{user.StaffRoleAgent, user.StaffRoleAdmin} {
		staff := newStaff(t, b, role)
		for _, p := range gets {
			wantStatus(t, staff.c.get(p), http.StatusOK)
		}
		// An empty choice is refused next to the field: the route is
		// reachable, and nothing is started.
		r := staff.c.postForm(post, url.Values{web.CSRFField: {tokenFromPage(t, staff.c, casePath)}, "project": {""}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
	}
	if n := testdb.Store(t).Ent.SupportCase.GetX(context.Background(), dc.ID).QueryRepoChallenges().CountX(context.Background()); n != 0 {
		t.Errorf("%d repository challenges started by refused posts", n)
	}

	// A staff member without a second factor is sent to set one up first.
	no2FA := newSecUser(t, b, secOpts{})
	if err := testdb.Store(t).Ent.User.UpdateOneID(no2FA.ID).SetStaffRole(user.StaffRoleAgent).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	r = no2FA.c.get(casePath)
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/account/2fa/totp" {
		t.Errorf("agent without 2FA: redirect to %q", loc)
	}
}

func TestDeskCaseListAndPage(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	a := seedDeskAccount(t, "https://git.example.org/tools.git")
	// From an address not on the account: challenge links go to the
	// account's addresses and to it.
	dc := fileDeskCase(t, b, a, fmt.Sprintf("requester%d@elsewhere.example", userSeq.Add(1)))
	staff := newStaff(t, b, user.StaffRoleAgent)
	casePath := "/desk/cases/" + dc.Reference

	r := staff.c.get("/desk")
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	wantLayout(t, d)
	var line string
	for _, n := range rowsOf(d, "desk-case-line") {
		if strings.Contains(text(n), dc.Reference) {
			line = text(n)
			if href := mustAttr(t, all(n, isTag("a"))[0], "href"); href != casePath {
				t.Errorf("case link %q, want %q", href, casePath)
			}
		}
	}
	if line == "" {
		t.Fatalf("case %s not listed", dc.Reference)
	}
	if !strings.Contains(line, dc.Contact) || !strings.Contains(line, "Gathering evidence") {
		t.Errorf("case line %q lacks the requester or the recommendation", line)
	}

	// Before any job ran: nothing found, checks pending, the page polls.
	r = staff.c.get(casePath)
	wantStatus(t, r, http.StatusOK)
	d = parse(t, r.body)
	live := d.testID("evidence-live")
	if live == nil {
		t.Fatal("no live region")
	}
	for name, want := range map[string]string{"id": "evidence-live", "data-src": casePath + "/evidence", "aria-live": "polite", "data-busy": "true"} {
		if got := mustAttr(t, live, name); got != want {
			t.Errorf("live region %s=%q, want %q", name, got, want)
		}
	}
	if got := text(d.testID("desk-account")); got != "Linked to "+a.Username {
		t.Errorf("account: %q", got)
	}
	if !strings.Contains(text(d.testID("desk-private-answers")), "An authenticator app (TOTP)") {
		t.Errorf("private answers: %q", text(d.testID("desk-private-answers")))
	}
	if !strings.Contains(text(d.testID("evidence-jobs")), "Pending") {
		t.Errorf("jobs before a run: %q", text(d.testID("evidence-jobs")))
	}
	scripts := d.all(isTag("script"))
	var liveJS string
	for _, s := range scripts {
		if src, _ := attr(s, "src"); strings.HasPrefix(src, "/static/desk_live.js?v=") {
			liveJS = src
		}
	}
	if liveJS == "" {
		t.Error("the case page does not load desk_live.js")
	} else if r := staff.c.get(liveJS); r.StatusCode != http.StatusOK || !strings.Contains(r.Header.Get("Content-Type"), "javascript") {
		t.Errorf("desk_live.js: status %d, type %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
	if d.hasTestID("evidence-refresh") == false {
		t.Error("no Refresh link for browsers without JavaScript")
	}

	// The jobs run: evidence and a recommendation appear.
	runEvidence(t, b.evidence, desk.AccountMatchArgs{CaseID: dc.ID}, desk.PrivateKnowledgeArgs{CaseID: dc.ID}, desk.EmailChallengeArgs{CaseID: dc.ID})
	r = staff.c.get(casePath)
	wantStatus(t, r, http.StatusOK)
	d = parse(t, r.body)
	ev := text(d.testID("evidence-live"))
	items, err := b.evidence.Live(context.Background(), dc.Reference)
	if err != nil {
		t.Fatal(err)
	}
	if len(items.Evidence) == 0 {
		t.Fatal("the jobs stored no evidence")
	}
	for _, it := range items.Evidence {
		if !strings.Contains(ev, it.Finding.Summary) {
			t.Errorf("live region lacks %q", it.Finding.Summary)
		}
	}
	if want := items.Assessment.Recommendation.Describe(); !strings.Contains(text(d.testID("recommendation")), want) {
		t.Errorf("recommendation %q, want %q", text(d.testID("recommendation")), want)
	}
	if items.Assessment.Version == 0 {
		t.Error("no assessment stored")
	}
	ch := text(d.testID("desk-email-challenges"))
	for _, want := range []string{a.Primary, a.Home, "On the account", dc.Contact, "Contact address, not on the account", "Waiting"} {
		if !strings.Contains(ch, want) {
			t.Errorf("email challenges %q lack %q", ch, want)
		}
	}
	if mails := text(d.testID("desk-mails")); !strings.Contains(mails, a.Primary) || !strings.Contains(mails, "Queued") {
		t.Errorf("mails table %q", mails)
	}
	if !strings.Contains(text(d.testID("desk-timeline")), "I lost my phone") {
		t.Error("thread lacks the request")
	}

	// The fragment is the region alone, never cached, and busy while jobs
	// are queued; once they finished it says so.
	r = staff.c.get(casePath+"/evidence", "X-Requested-With", "fetch")
	wantStatus(t, r, http.StatusOK)
	if got := r.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("fragment Cache-Control %q", got)
	}
	if strings.Contains(r.body, "<html") || strings.Contains(r.body, "site-header") {
		t.Error("the fragment carries the layout")
	}
	frag := parse(t, r.body).testID("evidence-live")
	if frag == nil || mustAttr(t, frag, "data-busy") != "true" {
		t.Errorf("fragment while jobs are queued:\n%s", r.body)
	}
	finishJobs(t, dc.ID)
	r = staff.c.get(casePath + "/evidence")
	frag = parse(t, r.body).testID("evidence-live")
	if frag == nil || mustAttr(t, frag, "data-busy") != "false" {
		t.Errorf("fragment after the jobs finished:\n%s", r.body)
	}
	if !strings.Contains(text(frag), "Done") {
		t.Errorf("finished jobs are not labelled Done: %q", text(frag))
	}

	wantStatus(t, staff.c.get("/desk/cases/RD-ZZZZZZ"), http.StatusNotFound)
	wantStatus(t, staff.c.get("/desk/cases/RD-ZZZZZZ/evidence"), http.StatusNotFound)
}

func TestDeskRepoChallengeForm(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	repo := "https://git.example.org/" + fmt.Sprint(userSeq.Add(1)) + "/tools.git"
	a := seedDeskAccount(t, repo)
	dc := fileDeskCase(t, b, a, "")
	staff := newStaff(t, b, user.StaffRoleAgent)
	casePath := "/desk/cases/" + dc.Reference

	// A case for a username no account has: no form, and a post says why
	// next to the field.
	stray := fileDeskCase(t, b, deskAccount{Username: fmt.Sprintf("nobody%d", userSeq.Add(1))}, fmt.Sprintf("nobody%d@elsewhere.example", userSeq.Add(1)))
	strayPath := "/desk/cases/" + stray.Reference
	d := parse(t, staff.c.get(strayPath).body)
	if got := text(d.testID("desk-account")); got != "Not linked" {
		t.Errorf("account of a case for an unknown username: %q", got)
	}
	if !d.hasTestID("repo-challenge-unlinked") || d.hasTestID("repo-challenge-form") {
		t.Error("an unlinked case offers the challenge form")
	}
	r := staff.c.postForm(strayPath+"/repo-challenge", url.Values{web.CSRFField: {tokenFromPage(t, staff.c, strayPath)}, "project": {a.Username + "-tool0"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if got := text(parse(t, r.body).testID("error-project")); !strings.Contains(got, "not linked to an account") {
		t.Errorf("error for an unlinked case: %q", got)
	}

	d = parse(t, staff.c.get(casePath).body)
	form := d.testID("repo-challenge-form")
	if form == nil {
		t.Fatal("no challenge form on a linked case")
	}
	opts := all(form, isTag("option"))
	var withRepo, without bool
	for _, o := range opts {
		v, _ := attr(o, "value")
		_, disabled := attr(o, "disabled")
		switch v {
		case a.Username + "-tool0":
			withRepo = !disabled && strings.Contains(text(o), repo)
		case a.Username + "-tool1":
			without = disabled && strings.Contains(text(o), "no repository URL")
		}
	}
	if !withRepo || !without {
		t.Errorf("project options (with repository %v, without disabled %v): %q", withRepo, without, text(form))
	}

	// A project without a repository is refused next to the field, and
	// the choice is kept.
	token := formValue(t, form, web.CSRFField)
	r = staff.c.postForm(casePath+"/repo-challenge", url.Values{web.CSRFField: {token}, "project": {a.Username + "-tool1"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	d = parse(t, r.body)
	errText := text(d.testID("error-project"))
	if !strings.Contains(errText, "no repository URL") {
		t.Errorf("error for a project without repository: %q", errText)
	}
	sel := all(d.testID("field-project"), isTag("select"))
	if len(sel) != 1 || !strings.Contains(mustAttr(t, sel[0], "aria-describedby"), "field-project-error") {
		t.Error("the error is not tied to the select")
	}

	r = staff.c.postForm(casePath+"/repo-challenge", url.Values{web.CSRFField: {token}, "project": {a.Username + "-tool0"}})
	wantSeeOther(t, r, casePath)
	if msg := flashAfter(t, staff.c, r); !strings.Contains(msg, "Repository challenge started") || !strings.Contains(msg, repo) {
		t.Errorf("flash %q", msg)
	}
	d = parse(t, staff.c.get(casePath).body)
	row := text(d.testID("desk-repo-challenge"))
	if !strings.Contains(row, repo) || !strings.Contains(row, "rd-") || !strings.Contains(row, "Pending") {
		t.Errorf("repository challenge row %q", row)
	}
}
