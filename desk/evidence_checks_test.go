package desk_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/assessment"
	"github.com/recoverydesk/recoverydesk/ent/organizationmember"
	"github.com/recoverydesk/recoverydesk/ent/projectrole"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }

// itemNaming is the one item of rows whose summary contains s.
func itemNaming(t *testing.T, rows []*ent.EvidenceItem, s string) *ent.EvidenceItem {
	t.Helper()
	var found []*ent.EvidenceItem
	for _, r := range rows {
		if strings.Contains(r.Finding.Summary, s) {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d items name %q, want 1: %s", len(found), s, describeItems(rows))
	}
	return found[0]
}

func allPublic(t *testing.T, rows []*ent.EvidenceItem) {
	t.Helper()
	for _, r := range rows {
		if string(r.Strength) != string(desk.StrengthPublic) {
			t.Errorf("%s item is %s, want public_knowledge: %s", r.Kind, r.Strength, r.Finding.Summary)
		}
	}
}

func TestClaimedProjectsAndOrganizations(t *testing.T) {
	t.Parallel()
	fx := newEvidence(t)
	a := seedAccount(t, fx.st)
	other := seedAccount(t, fx.st)
	owned := a.addProject(unique("Engine"), projectrole.RoleOwner, day(2020, 5, 17), "")
	foreign := other.addProject(unique("Foreign"), projectrole.RoleOwner, day(2018, 1, 2), "")
	missing := unique("missing")
	org := unique("Babbage")
	a.joinOrg(org, organizationmember.RoleMember, day(2021, 2, 3))

	f := recoveryForm(a.User.Username, a.Primary)
	// Claimed in another spelling: names compare normalised.
	f.ClaimedProjects = strings.ToUpper(owned.Name) + ", " + foreign.Name + "\n" + missing
	f.ClaimedOrganizations = strings.ToLower(org)
	c := fx.submit(t, f)
	run(t, fx.ev, desk.ClaimedProjectsArgs{CaseID: c.ID})

	projects := caseItems(t, fx.st, c.ID, desk.KindClaimedProject)
	if len(projects) != 3 {
		t.Fatalf("%d project items, want 3: %s", len(projects), describeItems(projects))
	}
	allPublic(t, projects)
	got := itemNaming(t, projects, owned.Name)
	if matchOf(got) != "true" || !strings.Contains(got.Finding.Summary, "owner since 2020-05-17") {
		t.Errorf("owned project: Match %s: %s", matchOf(got), got.Finding.Summary)
	}
	if got.Finding.At == nil || !got.Finding.At.Equal(day(2020, 5, 17)) {
		t.Errorf("owned project At %v, want the role's start", got.Finding.At)
	}
	got = itemNaming(t, projects, foreign.Name)
	if matchOf(got) != "false" || !strings.Contains(got.Finding.Summary, "no role") {
		t.Errorf("project without a role: Match %s: %s", matchOf(got), got.Finding.Summary)
	}
	got = itemNaming(t, projects, missing)
	if matchOf(got) != "false" || !strings.Contains(got.Finding.Summary, "does not exist") {
		t.Errorf("missing project: Match %s: %s", matchOf(got), got.Finding.Summary)
	}

	o := onlyItem(t, fx.st, c.ID, desk.KindClaimedOrganization)
	if string(o.Strength) != string(desk.StrengthPublic) || matchOf(o) != "true" ||
		!strings.Contains(o.Finding.Summary, org) || !strings.Contains(o.Finding.Summary, "member since 2021-02-03") {
		t.Errorf("organization: %s Match %s: %s", o.Strength, matchOf(o), o.Finding.Summary)
	}

	// Public facts, however right, never make an approval.
	if rec := latest(t, fx.st, c.ID).Recommendation; string(rec) == string(desk.RecommendApprove) {
		t.Errorf("claims alone give %s", rec)
	}
}

func TestUploadHistory(t *testing.T) {
	t.Parallel()
	fx := newEvidence(t)
	a := seedAccount(t, fx.st)
	engine := a.addProject(unique("engine"), projectrole.RoleOwner, day(2019, 4, 1), "")
	notes := a.addProject(unique("notes"), projectrole.RoleMaintainer, day(2020, 1, 1), "")
	a.addUpload(engine, "1.0", day(2019, 4, 2))
	a.addUpload(engine, "1.1", day(2021, 8, 30))
	a.addUpload(notes, "0.1", day(2020, 1, 5))
	a.addUpload(notes, "0.2", day(2023, 6, 15)) // the last upload overall
	// Someone else's upload to the same project is not the account's.
	other := seedAccount(t, fx.st)
	other.addUpload(notes, "0.3", day(2024, 2, 1))

	tests := []struct {
		name, claim string
		match       string
	}{
		{"within a month", "2023-07", "true"},
		{"the same month", "2023-06", "true"},
		{"six months off", "2022-12", "false"},
		{"the other account's upload month", "2024-02", "false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := recoveryForm(a.User.Username, unique("req")+"@example.net")
			f.LastUpload = tt.claim
			c := fx.submit(t, f)
			run(t, fx.ev, desk.UploadHistoryArgs{CaseID: c.ID})

			history := caseItems(t, fx.st, c.ID, desk.KindUploadHistory)
			if len(history) != 2 {
				t.Fatalf("%d history items, want one per project: %s", len(history), describeItems(history))
			}
			allPublic(t, history)
			e := itemNaming(t, history, engine.Name)
			if !strings.Contains(e.Finding.Summary, "from 2019-04-02 to 2021-08-30") || !strings.Contains(e.Finding.Summary, "2 files in 2 releases") {
				t.Errorf("engine history: %s", e.Finding.Summary)
			}
			n := itemNaming(t, history, notes.Name)
			if !strings.Contains(n.Finding.Summary, "from 2020-01-05 to 2023-06-15") || n.Finding.Details["last_version"] != "0.2" {
				t.Errorf("notes history: %s %v", n.Finding.Summary, n.Finding.Details)
			}

			claim := onlyItem(t, fx.st, c.ID, desk.KindUploadClaim)
			if string(claim.Strength) != string(desk.StrengthPublic) || matchOf(claim) != tt.match {
				t.Errorf("claim %s: %s Match %s, want %s: %s", tt.claim, claim.Strength, matchOf(claim), tt.match, claim.Finding.Summary)
			}
			if !strings.Contains(claim.Finding.Summary, "2023-06-15") || !strings.Contains(claim.Finding.Summary, notes.Name+" 0.2") {
				t.Errorf("claim summary lacks the real last upload: %s", claim.Finding.Summary)
			}
		})
	}

	t.Run("never uploaded", func(t *testing.T) {
		t.Parallel()
		idle := seedAccount(t, fx.st)
		f := recoveryForm(idle.User.Username, idle.Primary)
		f.LastUpload = "2023-06"
		c := fx.submit(t, f)
		run(t, fx.ev, desk.UploadHistoryArgs{CaseID: c.ID})
		if rows := caseItems(t, fx.st, c.ID, desk.KindUploadHistory); len(rows) != 0 {
			t.Errorf("history for an account without uploads: %s", describeItems(rows))
		}
		if claim := onlyItem(t, fx.st, c.ID, desk.KindUploadClaim); matchOf(claim) != "false" {
			t.Errorf("claimed upload for an account without uploads: Match %s", matchOf(claim))
		}
	})
}

func TestAccountHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newEvidence(t)

	t.Run("takeover in progress", func(t *testing.T) {
		t.Parallel()
		a := seedAccount(t, fx.st)
		now := time.Now()
		changed := now.Add(-3 * 24 * time.Hour)
		a.event(account.EventPrimaryEmailChanged, changed, map[string]any{
			account.DetailAddress: "thief@example.net", account.DetailPreviousAddress: a.Primary,
		})
		a.event(account.EventPasswordChanged, now.Add(-60*24*time.Hour), nil)
		burst := now.Add(-10 * 24 * time.Hour)
		for i := range 6 {
			a.event(account.EventLoginFailed, burst.Add(time.Duration(i)*10*time.Minute), nil)
		}
		held := now.Add(-2 * 24 * time.Hour)
		a.event(account.EventLoginHeld, held, nil)

		c := fx.submit(t, recoveryForm(a.User.Username, a.Primary))
		open := fx.submit(t, recoveryForm(a.User.Username, unique("other")+"@example.net"))
		closed := fx.submit(t, recoveryForm(a.User.Username, unique("old")+"@example.net"))
		if err := fx.st.Ent.SupportCase.UpdateOneID(closed.ID).SetStatus(supportcase.StatusClosed).Exec(ctx); err != nil {
			t.Fatal(err)
		}

		run(t, fx.ev, desk.AccountMatchArgs{CaseID: c.ID}, desk.AccountHistoryArgs{CaseID: c.ID})

		for _, r := range caseItems(t, fx.st, c.ID, "") {
			if r.Kind != desk.KindAccountMatch && string(r.Strength) != string(desk.StrengthRedFlag) {
				t.Errorf("history item %s is %s, want red_flag", r.Kind, r.Strength)
			}
		}
		change := onlyItem(t, fx.st, c.ID, desk.KindAccountChange) // the password change is too old
		if !strings.Contains(change.Finding.Summary, "Primary email changed on "+ymd(changed)) {
			t.Errorf("account change: %s", change.Finding.Summary)
		}
		failed := onlyItem(t, fx.st, c.ID, desk.KindFailedLogins)
		if !strings.HasPrefix(failed.Finding.Summary, "6 failed sign-ins") {
			t.Errorf("failed logins: %s", failed.Finding.Summary)
		}
		device := onlyItem(t, fx.st, c.ID, desk.KindNewDevice)
		if !strings.Contains(device.Finding.Summary, ymd(held)) {
			t.Errorf("new device: %s", device.Finding.Summary)
		}
		other := onlyItem(t, fx.st, c.ID, desk.KindOtherCase) // not the closed one
		if !strings.Contains(other.Finding.Summary, open.Reference) {
			t.Errorf("other case %s, want %s: %s", other.Finding.Details["reference"], open.Reference, other.Finding.Summary)
		}

		got := latest(t, fx.st, c.ID)
		if string(got.Recommendation) != string(desk.RecommendChallenge) {
			t.Errorf("recommendation %s, want challenge: %q", got.Recommendation, got.Reasons)
		}
		if !containsPrefix(got.Reasons, "Red flag: Primary email changed on "+ymd(changed)) {
			t.Errorf("reasons lack the email change with its date: %q", got.Reasons)
		}
		if !containsLine(got.Reasons, "(3 days before the request)") {
			t.Errorf("reasons do not say how long before the request: %q", got.Reasons)
		}
		if n := caseRow(t, fx.st, c.ID).Risk; n != 4 {
			t.Errorf("risk %d, want 4 red flags", n)
		}
	})

	t.Run("quiet account", func(t *testing.T) {
		t.Parallel()
		a := seedAccount(t, fx.st)
		now := time.Now()
		a.event(account.EventPasswordChanged, now.Add(-60*24*time.Hour), nil)
		for i := range 4 {
			a.event(account.EventLoginFailed, now.Add(-5*24*time.Hour+time.Duration(i)*time.Minute), nil)
		}
		// A new browser three weeks ago is past the device window.
		a.event(account.EventLoginHeld, now.Add(-21*24*time.Hour), nil)
		a.event(account.EventLoginSucceeded, now.Add(-24*time.Hour), nil)
		c := fx.submit(t, recoveryForm(a.User.Username, a.Primary))
		run(t, fx.ev, desk.AccountHistoryArgs{CaseID: c.ID})
		if rows := caseItems(t, fx.st, c.ID, ""); len(rows) != 0 {
			t.Errorf("red flags on a quiet account: %s", describeItems(rows))
		}
	})
}

// containsLine reports whether a line of lines contains s.
func containsLine(lines []string, s string) bool {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

func TestPrivateKnowledge(t *testing.T) {
	t.Parallel()
	fx := newEvidence(t)
	a := seedAccount(t, fx.st)
	a.addTOTP()
	former := unique("former") + "@example.com"
	removed := day(2022, 9, 1)
	a.event(account.EventEmailAdded, day(2019, 6, 1), map[string]any{account.DetailAddress: former})
	a.event(account.EventEmailRemoved, removed, map[string]any{account.DetailAddress: former})

	tests := []struct {
		name  string
		form  func(*desk.RecoveryForm)
		kind  string
		match string
	}{
		{"creation within three months", func(f *desk.RecoveryForm) { f.AccountCreated = "2019-05" }, desk.KindCreationDate, "true"},
		{"creation two years off", func(f *desk.RecoveryForm) { f.AccountCreated = "2021-03" }, desk.KindCreationDate, "false"},
		{"removed address", func(f *desk.RecoveryForm) { f.PreviousEmails = strings.ToUpper(former) }, desk.KindPreviousEmail, "true"},
		{"address never on the account", func(f *desk.RecoveryForm) { f.PreviousEmails = unique("never") + "@example.com" }, desk.KindPreviousEmail, "false"},
		{"totp, which it has", func(f *desk.RecoveryForm) { f.TwoFactorMethod = desk.MethodTOTP }, desk.KindTwoFactorMethod, "true"},
		{"passkey, which it has not", func(f *desk.RecoveryForm) { f.TwoFactorMethod = desk.MethodPasskey }, desk.KindTwoFactorMethod, "false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := recoveryForm(a.User.Username, unique("req")+"@example.net")
			tt.form(&f)
			c := fx.submit(t, f)
			run(t, fx.ev, desk.PrivateKnowledgeArgs{CaseID: c.ID})
			rows := caseItems(t, fx.st, c.ID, "")
			if len(rows) != 1 || rows[0].Kind != tt.kind {
				t.Fatalf("items %s, want one %s", describeItems(rows), tt.kind)
			}
			if string(rows[0].Strength) != string(desk.StrengthPrivate) || matchOf(rows[0]) != tt.match {
				t.Errorf("%s Match %s, want private_knowledge %s: %s", rows[0].Strength, matchOf(rows[0]), tt.match, rows[0].Finding.Summary)
			}
		})
	}

	t.Run("removed address says when", func(t *testing.T) {
		t.Parallel()
		f := recoveryForm(a.User.Username, unique("req")+"@example.net")
		f.PreviousEmails = former
		c := fx.submit(t, f)
		run(t, fx.ev, desk.PrivateKnowledgeArgs{CaseID: c.ID})
		if got := onlyItem(t, fx.st, c.ID, desk.KindPreviousEmail); !strings.Contains(got.Finding.Summary, "removed "+ymd(removed)) {
			t.Errorf("summary: %s", got.Finding.Summary)
		}
	})

	t.Run("security key is not a passkey", func(t *testing.T) {
		t.Parallel()
		k := seedAccount(t, fx.st)
		k.addWebAuthn(false)
		f := recoveryForm(k.User.Username, k.Primary)
		f.TwoFactorMethod = desk.MethodPasskey
		c := fx.submit(t, f)
		run(t, fx.ev, desk.PrivateKnowledgeArgs{CaseID: c.ID})
		if got := onlyItem(t, fx.st, c.ID, desk.KindTwoFactorMethod); matchOf(got) != "false" {
			t.Errorf("passkey for an account with a security key: Match %s", matchOf(got))
		}
	})

	t.Run("all wrong without proof denies", func(t *testing.T) {
		t.Parallel()
		f := recoveryForm(a.User.Username, unique("req")+"@example.net")
		f.AccountCreated = "2024-01"
		f.PreviousEmails = unique("never") + "@example.com"
		f.TwoFactorMethod = desk.MethodSecurityKey
		c := fx.submit(t, f)
		run(t, fx.ev, desk.PrivateKnowledgeArgs{CaseID: c.ID})
		if got := latest(t, fx.st, c.ID); string(got.Recommendation) != string(desk.RecommendDeny) {
			t.Errorf("recommendation %s, want deny: %q", got.Recommendation, got.Reasons)
		}
	})
}

// fullAccount is an account with everything the jobs read: two verified
// addresses, an authenticator app, a project with uploads and an
// organization.
type fullAccount struct {
	*seeded
	Second  string
	Project *ent.Project
	Org     string
}

func seedFullAccount(t *testing.T, fx evFixture) fullAccount {
	t.Helper()
	a := seedAccount(t, fx.st)
	second := unique("second") + "@example.com"
	a.addEmail(second, false, &accountBorn)
	a.addTOTP()
	p := a.addProject(unique("engine"), projectrole.RoleOwner, day(2019, 4, 1), "")
	a.addUpload(p, "1.0", day(2019, 4, 2))
	a.addUpload(p, "2.0", day(2024, 10, 9))
	org := unique("org")
	a.joinOrg(org, organizationmember.RoleOwner, day(2020, 1, 1))
	return fullAccount{seeded: a, Second: second, Project: p, Org: org}
}

// claimPublicFacts fills in what anyone can read about the account.
func claimPublicFacts(f *desk.RecoveryForm, a fullAccount) {
	f.ClaimedProjects = a.Project.Name
	f.ClaimedOrganizations = a.Org
	f.LastUpload = "2024-10"
}

func TestEvidenceJobsAreIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newEvidence(t)
	a := seedFullAccount(t, fx)
	a.event(account.EventPrimaryEmailChanged, time.Now().Add(-48*time.Hour), map[string]any{account.DetailAddress: a.Primary})
	f := recoveryForm(a.User.Username, unique("req")+"@example.net")
	claimPublicFacts(&f, a)
	f.AccountCreated = "2019-03"
	f.TwoFactorMethod = desk.MethodTOTP
	f.PreviousEmails = unique("never") + "@example.com"
	c := fx.submit(t, f)

	run(t, fx.ev, allJobs(c.ID)...)
	items1 := len(caseItems(t, fx.st, c.ID, ""))
	versions1 := versions(t, fx.st, c.ID)
	mails1 := len(mails(t, fx.st, c.ID, desk.MailEmailChallenge))
	tokens1 := challengeTokens(t, fx.st, c.ID)
	// Each job stored something, so a second run has something to repeat.
	for _, kind := range []string{desk.KindAccountMatch, desk.KindContactNotOnAccount, desk.KindClaimedProject, desk.KindClaimedOrganization,
		desk.KindUploadHistory, desk.KindUploadClaim, desk.KindAccountChange, desk.KindCreationDate, desk.KindPreviousEmail, desk.KindTwoFactorMethod} {
		onlyItem(t, fx.st, c.ID, kind)
	}
	if mails1 != 3 {
		t.Fatalf("%d challenge mails, want 3", mails1)
	}

	run(t, fx.ev, allJobs(c.ID)...)
	if n := len(caseItems(t, fx.st, c.ID, "")); n != items1 {
		t.Errorf("%d items after a second run, want %d", n, items1)
	}
	if n := versions(t, fx.st, c.ID); n != versions1 {
		t.Errorf("%d assessment versions after a second run, want %d", n, versions1)
	}
	if n := len(mails(t, fx.st, c.ID, desk.MailEmailChallenge)); n != mails1 {
		t.Errorf("%d challenge mails after a second run, want %d", n, mails1)
	}
	// The first links still work: a re-run does not replace them.
	for addr, tok := range tokens1 {
		if _, err := fx.ev.PeekEmailChallenge(ctx, tok); err != nil {
			t.Errorf("link to %s after a re-run: %v", addr, err)
		}
	}
}

func TestOwnerIsApprovedAttackerIsNot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newEvidence(t)

	t.Run("owner", func(t *testing.T) {
		t.Parallel()
		a := seedFullAccount(t, fx)
		f := recoveryForm(a.User.Username, a.Primary)
		claimPublicFacts(&f, a)
		f.AccountCreated = "2019-03"
		f.TwoFactorMethod = desk.MethodTOTP
		c := fx.submit(t, f)
		run(t, fx.ev, allJobs(c.ID)...)
		if got := latest(t, fx.st, c.ID); string(got.Recommendation) == string(desk.RecommendApprove) {
			t.Fatalf("approved before any proof of control: %q", got.Reasons)
		}
		tok := challengeTokens(t, fx.st, c.ID)[a.Primary]
		if tok == "" {
			t.Fatal("no challenge link to the primary address")
		}
		if _, err := fx.ev.AnswerEmailChallenge(ctx, tok, true, origin()); err != nil {
			t.Fatal(err)
		}
		got := latest(t, fx.st, c.ID)
		if string(got.Recommendation) != string(desk.RecommendApprove) {
			t.Fatalf("owner: recommendation %s, want approve: %q", got.Recommendation, got.Reasons)
		}
		if !strings.HasPrefix(got.Reasons[0], "Ready to approve: proof of control of a verified address") {
			t.Errorf("headline %q", got.Reasons[0])
		}
		cf, err := fx.ev.CaseFile(ctx, c.Reference)
		if err != nil {
			t.Fatal(err)
		}
		if cf.Assessment.Recommendation != desk.RecommendApprove || len(cf.History) < 2 || cf.Account == nil || cf.Account.ID != a.User.ID {
			t.Errorf("case file: %s, %d versions, account %+v", cf.Assessment.Recommendation, len(cf.History), cf.Account)
		}
	})

	attackers := []struct {
		name string
		form func(*desk.RecoveryForm)
	}{
		{"wrong private answers", func(f *desk.RecoveryForm) {
			f.AccountCreated = "2023-01"
			f.TwoFactorMethod = desk.MethodSecurityKey
			f.PreviousEmails = unique("guess") + "@example.com"
		}},
		{"no private answers", func(*desk.RecoveryForm) {}},
		{"one lucky guess", func(f *desk.RecoveryForm) { f.TwoFactorMethod = desk.MethodTOTP }},
	}
	for _, tt := range attackers {
		t.Run("attacker with "+tt.name, func(t *testing.T) {
			t.Parallel()
			a := seedFullAccount(t, fx)
			contact := unique("attacker") + "@example.net"
			f := recoveryForm(a.User.Username, contact)
			claimPublicFacts(&f, a)
			tt.form(&f)
			c := fx.submit(t, f)
			run(t, fx.ev, allJobs(c.ID)...)
			// Every public fact is right.
			for _, kind := range []string{desk.KindClaimedProject, desk.KindClaimedOrganization, desk.KindUploadClaim} {
				if it := onlyItem(t, fx.st, c.ID, kind); matchOf(it) != "true" {
					t.Fatalf("%s: Match %s, the attacker was meant to know it: %s", kind, matchOf(it), it.Finding.Summary)
				}
			}
			// The attacker reads only their own mailbox, and clicks yes.
			tok := challengeTokens(t, fx.st, c.ID)[contact]
			if tok == "" {
				t.Fatal("no challenge link to the contact address")
			}
			if _, err := fx.ev.AnswerEmailChallenge(ctx, tok, true, origin()); err != nil {
				t.Fatal(err)
			}
			if it := onlyItem(t, fx.st, c.ID, desk.KindEmailControl); string(it.Strength) != string(desk.StrengthPublic) {
				t.Errorf("contact address confirmation is %s, want public_knowledge", it.Strength)
			}
			for _, v := range fx.evidenceHistory(t, c.ID) {
				if string(v.Recommendation) == string(desk.RecommendApprove) {
					t.Fatalf("attacker reached approve in version %d: %q", v.Version, v.Reasons)
				}
			}
			if got := latest(t, fx.st, c.ID); string(got.Recommendation) != string(desk.RecommendChallenge) && string(got.Recommendation) != string(desk.RecommendDeny) {
				t.Errorf("attacker: recommendation %s, want challenge or deny", got.Recommendation)
			}
		})
	}
}

// evidenceHistory is every assessment version of the case.
func (fx evFixture) evidenceHistory(t *testing.T, caseID int) []*ent.Assessment {
	t.Helper()
	rows, err := fx.st.Ent.Assessment.Query().Where(assessment.CaseID(caseID)).All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
