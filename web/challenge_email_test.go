package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/evidenceitem"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/web"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// challengedCase files a case for a seeded account from one of its
// addresses, with right private answers, and runs the jobs that match the
// account, compare the answers and mail the challenge links.
func challengedCase(t *testing.T, b *bundle) (deskAccount, deskCase) {
	t.Helper()
	a := seedDeskAccount(t, "")
	dc := fileDeskCase(t, b, a, "")
	runEvidence(t, b.evidence, desk.AccountMatchArgs{CaseID: dc.ID}, desk.PrivateKnowledgeArgs{CaseID: dc.ID}, desk.EmailChallengeArgs{CaseID: dc.ID})
	return a, dc
}

// answerChallenge posts the challenge form of the page at path.
func answerChallenge(t *testing.T, c *client, path, answer string) response {
	t.Helper()
	d := parse(t, c.get(path).body)
	form := d.testID("challenge-form")
	if form == nil {
		t.Fatalf("no challenge form at %s", path)
	}
	return c.postForm(desk.PathEmailChallenge, url.Values{
		web.CSRFField:              {formValue(t, form, web.CSRFField)},
		"token":                    {formValue(t, form, "token")},
		pages.ChallengeAnswerField: {answer},
	})
}

func wantSecretPageHeaders(t *testing.T, r response) {
	t.Helper()
	if got := r.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("%s: Cache-Control %q", r.Request.URL.Path, got)
	}
	if got := r.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("%s: Referrer-Policy %q", r.Request.URL.Path, got)
	}
}

func TestEmailChallengeYesRecordsProofOfControl(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	a, dc := challengedCase(t, b)
	path := challengePath(t, dc.ID, a.Primary)
	ctx := context.Background()
	before, err := b.evidence.Live(ctx, dc.Reference)
	if err != nil {
		t.Fatal(err)
	}

	// Opening the link (twice, as a mail scanner and then the person do)
	// only asks; it spends nothing.
	reader := newClient(t, b.app)
	for range 2 {
		r := reader.get(path)
		wantStatus(t, r, http.StatusOK)
		wantSecretPageHeaders(t, r)
		d := parse(t, r.body)
		page := text(d.testID("challenge-email"))
		for _, want := range []string{"Is recovery request " + dc.Reference + " yours?", a.Username, a.Primary} {
			if !strings.Contains(page, want) {
				t.Errorf("challenge page lacks %q: %s", want, page)
			}
		}
		for id, label := range map[string]string{"challenge-yes": "Yes, I asked for this", "challenge-no": "No, this was not me"} {
			btn := d.testID(id)
			if btn == nil || text(btn) != label || mustAttr(t, btn, "name") != "answer" {
				t.Errorf("button %s: %v", id, btn)
			}
		}
	}

	// An answer that is neither yes nor no is refused, and spends nothing.
	d := parse(t, reader.get(path).body)
	form := d.testID("challenge-form")
	r := reader.postForm(desk.PathEmailChallenge, url.Values{
		web.CSRFField: {formValue(t, form, web.CSRFField)}, "token": {formValue(t, form, "token")}, "answer": {"maybe"},
	})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if !parse(t, r.body).hasTestID("challenge-error") {
		t.Error("no error for an answer that is neither yes nor no")
	}

	r = answerChallenge(t, reader, path, "yes")
	wantStatus(t, r, http.StatusOK)
	wantSecretPageHeaders(t, r)
	want := "Thank you, we recorded that you can read mail at " + a.Primary + ". Our team continues with request " + dc.Reference
	if got := text(parse(t, r.body).testID("challenge-result")); !strings.Contains(got, want) {
		t.Errorf("result %q, want %q", got, want)
	}

	n, err := testdb.Store(t).Ent.EvidenceItem.Query().
		Where(evidenceitem.CaseID(dc.ID), evidenceitem.Kind(desk.KindEmailControl), evidenceitem.StrengthEQ(evidenceitem.StrengthProofOfControl)).
		Count(ctx)
	if err != nil || n != 1 {
		t.Fatalf("%d proof-of-control email items (%v), want 1", n, err)
	}
	after, err := b.evidence.Live(ctx, dc.Reference)
	if err != nil {
		t.Fatal(err)
	}
	if after.Assessment.Version <= before.Assessment.Version || after.Assessment.Recommendation == before.Assessment.Recommendation {
		t.Errorf("assessment did not change: %s v%d → %s v%d",
			before.Assessment.Recommendation, before.Assessment.Version, after.Assessment.Recommendation, after.Assessment.Version)
	}

	// The staff page shows the new recommendation and the answer.
	staff := newStaff(t, b, user.StaffRoleAgent)
	sd := parse(t, staff.c.get("/desk/cases/"+dc.Reference).body)
	if got := text(sd.testID("recommendation")); !strings.Contains(got, after.Assessment.Recommendation.Describe()) {
		t.Errorf("staff page recommendation %q, want %q", got, after.Assessment.Recommendation.Describe())
	}
	if !sd.hasTestID("assessment-history") {
		t.Error("no assessment history after a change")
	}
	if got := text(sd.testID("desk-email-challenges")); !strings.Contains(got, "Answered") {
		t.Errorf("email challenges after the answer: %q", got)
	}

	// The link works once.
	for _, get := range []bool{true, false} {
		var r response
		if get {
			r = reader.get(path)
		} else {
			r = reader.postForm(desk.PathEmailChallenge, url.Values{
				web.CSRFField: {formValue(t, form, web.CSRFField)}, "token": {formValue(t, form, "token")}, "answer": {"no"},
			})
		}
		wantStatus(t, r, http.StatusGone)
		if got := text(parse(t, r.body).testID("challenge-email")); !strings.Contains(got, "This link has already been used") {
			t.Errorf("reused link: %q", got)
		}
	}
	if n := testdb.Store(t).Ent.EvidenceItem.Query().Where(evidenceitem.CaseID(dc.ID), evidenceitem.Kind(desk.KindEmailDisavowed)).CountX(ctx); n != 0 {
		t.Error("a spent link recorded a second answer")
	}
}

func TestEmailChallengeNoIsRecordedAsRedFlag(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	a, dc := challengedCase(t, b)
	r := answerChallenge(t, newClient(t, b.app), challengePath(t, dc.ID, a.Primary), "no")
	wantStatus(t, r, http.StatusOK)
	if got := text(parse(t, r.body).testID("challenge-result")); !strings.Contains(got, "Nothing changes on the account; our team has been told.") {
		t.Errorf("result %q", got)
	}
	n := testdb.Store(t).Ent.EvidenceItem.Query().
		Where(evidenceitem.CaseID(dc.ID), evidenceitem.Kind(desk.KindEmailDisavowed), evidenceitem.StrengthEQ(evidenceitem.StrengthRedFlag)).
		CountX(context.Background())
	if n != 1 {
		t.Errorf("%d red flags for a disavowal, want 1", n)
	}
}

func TestEmailChallengeForgedAndExpiredLinks(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	a, dc := challengedCase(t, b)
	path := challengePath(t, dc.ID, a.Primary)
	c := newClient(t, b.app)

	for _, forged := range []string{desk.PathEmailChallenge, desk.PathEmailChallenge + "?token=forged", path + "x"} {
		r := c.get(forged)
		wantStatus(t, r, http.StatusNotFound)
		wantSecretPageHeaders(t, r)
		if got := text(parse(t, r.body).testID("challenge-email")); !strings.Contains(got, "This link is not valid") {
			t.Errorf("%s: %q", forged, got)
		}
	}
	r := c.postForm(desk.PathEmailChallenge, url.Values{web.CSRFField: {tokenFromPage(t, c, path)}, "token": {"forged"}, "answer": {"yes"}})
	wantStatus(t, r, http.StatusNotFound)

	// The same link, read by a server whose clock is past its expiry.
	_, late := newDeskServices(t, b.cfg, desk.EvidenceOptions{Now: func() time.Time { return time.Now().Add(desk.DefaultEmailChallengeTTL + time.Hour) }})
	lateApp, err := web.New(web.Deps{Config: b.cfg, Logger: discardLogger(), Sessions: b.sessions, Account: b.account, Ready: b.ready.check, Evidence: late})
	if err != nil {
		t.Fatal(err)
	}
	lc := newClient(t, lateApp)
	r = lc.get(path)
	wantStatus(t, r, http.StatusGone)
	if got := text(parse(t, r.body).testID("challenge-email")); !strings.Contains(got, "This link has expired") {
		t.Errorf("expired link: %q", got)
	}
	token, _ := url.ParseQuery(strings.SplitN(path, "?", 2)[1])
	r = lc.postForm(desk.PathEmailChallenge, url.Values{web.CSRFField: {tokenFromPage(t, lc, "/login")}, "token": {token.Get("token")}, "answer": {"yes"}})
	wantStatus(t, r, http.StatusGone)
	if n := testdb.Store(t).Ent.EvidenceItem.Query().Where(evidenceitem.CaseID(dc.ID), evidenceitem.Kind(desk.KindEmailControl)).CountX(context.Background()); n != 0 {
		t.Error("an expired link recorded evidence")
	}
	// Still unspent: in time, it works.
	wantStatus(t, answerChallenge(t, c, path, "yes"), http.StatusOK)
}

func TestStatusPageListsWhatToDo(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	a := seedDeskAccount(t, "")
	dc := fileDeskCase(t, b, a, "")
	c := newClient(t, b.app)

	d := parse(t, c.get(dc.StatusPath).body)
	if d.hasTestID("case-todo") {
		t.Errorf("a to-do list before any challenge: %q", text(d.testID("case-todo")))
	}

	runEvidence(t, b.evidence, desk.AccountMatchArgs{CaseID: dc.ID}, desk.EmailChallengeArgs{CaseID: dc.ID})
	r := c.get(dc.StatusPath)
	wantStatus(t, r, http.StatusOK)
	d = parse(t, r.body)
	todo := text(d.testID("case-todo"))
	if !strings.Contains(todo, "What you need to do") || !strings.Contains(todo, "Open the link we emailed to the address on file") {
		t.Errorf("to-do list %q", todo)
	}
	if strings.Contains(r.body, a.Primary) {
		t.Error("the status page reveals the account's primary address")
	}
	// The list comes before the messages.
	if strings.Index(r.body, `data-testid="case-todo"`) > strings.Index(r.body, `data-testid="case-messages"`) {
		t.Error("the to-do list is below the messages")
	}
}
