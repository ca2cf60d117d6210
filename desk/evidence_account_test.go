package desk_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/projectrole"
	"github.com/recoverydesk/recoverydesk/ent/schema/types"
)

// evidenceKinds are the jobs a new case gets, sorted.
var evidenceKinds = []string{
	desk.AccountHistoryArgs{}.Kind(),
	desk.AccountMatchArgs{}.Kind(),
	desk.ClaimedProjectsArgs{}.Kind(),
	desk.EmailChallengeArgs{}.Kind(),
	desk.PrivateKnowledgeArgs{}.Kind(),
	desk.UploadHistoryArgs{}.Kind(),
}

func TestSubmitEnqueuesEvidenceJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newEvidence(t)
	a := seedAccount(t, fx.st)
	c := fx.submit(t, recoveryForm(a.User.Username, a.Primary))

	if got := jobKinds(t, fx.st, c.ID); !slices.Equal(got, evidenceKinds) {
		t.Fatalf("jobs after submit %v, want %v", got, evidenceKinds)
	}
	// The requester adds information while the jobs still wait: the
	// re-run they ask for is absorbed by the waiting ones.
	if err := fx.in.AddInformation(ctx, c.Reference, c.StatusToken, "I also maintain the docs.", nil, origin()); err != nil {
		t.Fatal(err)
	}
	if got := jobKinds(t, fx.st, c.ID); !slices.Equal(got, evidenceKinds) {
		t.Fatalf("jobs after adding information %v, want %v (no duplicates)", got, evidenceKinds)
	}
}

func TestAccountMatch(t *testing.T) {
	t.Parallel()
	fx := newEvidence(t)

	t.Run("username and contact on the account", func(t *testing.T) {
		t.Parallel()
		a := seedAccount(t, fx.st)
		c := fx.submit(t, recoveryForm(a.User.Username, strings.ToUpper(a.Primary)))
		run(t, fx.ev, desk.AccountMatchArgs{CaseID: c.ID})
		m := onlyItem(t, fx.st, c.ID, desk.KindAccountMatch)
		if matchOf(m) != "true" || string(m.Strength) != string(desk.StrengthPublic) {
			t.Errorf("account match %s/%s, want public_knowledge with Match true: %s", m.Strength, matchOf(m), m.Finding.Summary)
		}
		if !strings.Contains(m.Finding.Summary, a.User.Username) {
			t.Errorf("summary does not name the account: %s", m.Finding.Summary)
		}
		if rows := caseItems(t, fx.st, c.ID, desk.KindContactNotOnAccount); len(rows) != 0 {
			t.Errorf("contact on the account flagged: %s", describeItems(rows))
		}
	})

	t.Run("contact not on the account", func(t *testing.T) {
		t.Parallel()
		a := seedAccount(t, fx.st)
		stranger := unique("stranger") + "@example.net"
		c := fx.submit(t, recoveryForm(a.User.Username, stranger))
		run(t, fx.ev, desk.AccountMatchArgs{CaseID: c.ID})
		if m := onlyItem(t, fx.st, c.ID, desk.KindAccountMatch); matchOf(m) != "true" {
			t.Errorf("the username names the account, yet Match %s: %s", matchOf(m), m.Finding.Summary)
		}
		flag := onlyItem(t, fx.st, c.ID, desk.KindContactNotOnAccount)
		if string(flag.Strength) != string(desk.StrengthRedFlag) || !strings.Contains(flag.Finding.Summary, stranger) {
			t.Errorf("flag %s: %s", flag.Strength, flag.Finding.Summary)
		}
		if got := latest(t, fx.st, c.ID); !containsPrefix(got.Reasons, "Red flag: The contact address "+stranger) {
			t.Errorf("reasons lack the red flag: %q", got.Reasons)
		}
	})

	t.Run("contact of another account", func(t *testing.T) {
		t.Parallel()
		a := seedAccount(t, fx.st)
		other := seedAccount(t, fx.st)
		c := fx.submit(t, recoveryForm(a.User.Username, other.Primary))
		run(t, fx.ev, desk.AccountMatchArgs{CaseID: c.ID})
		flag := onlyItem(t, fx.st, c.ID, desk.KindContactNotOnAccount)
		if string(flag.Strength) != string(desk.StrengthRedFlag) ||
			!strings.Contains(flag.Finding.Summary, "another account") || !strings.Contains(flag.Finding.Summary, other.User.Username) {
			t.Errorf("flag does not name the other account %s: %s", other.User.Username, flag.Finding.Summary)
		}
		if got := caseRow(t, fx.st, c.ID); got.AccountID == nil || *got.AccountID != a.User.ID {
			t.Errorf("case linked to %v, want the named account %d", got.AccountID, a.User.ID)
		}
	})

	t.Run("no username, gmail variant of the account's address", func(t *testing.T) {
		t.Parallel()
		local := strings.ReplaceAll(unique("gm"), "_", "x")
		a := seedAccountWith(t, fx.st, unique("gmailer"), local+"@gmail.com")
		// Dots, a plus-tag, upper case and the googlemail alias: the same
		// mailbox.
		variant := strings.ToUpper(local[:1]) + "." + local[1:3] + "." + local[3:] + "+recovery@GoogleMail.com"
		c := fx.insertCase(t, variant, "", types.CaseIntake{Explanation: "I cannot sign in any more."})
		if got := jobKinds(t, fx.st, c.ID); len(got) != 0 {
			t.Fatalf("a directly created case has jobs %v", got)
		}
		run(t, fx.ev, desk.AccountMatchArgs{CaseID: c.ID})

		m := onlyItem(t, fx.st, c.ID, desk.KindAccountMatch)
		if matchOf(m) != "true" || !strings.Contains(m.Finding.Summary, a.User.Username) {
			t.Errorf("account match %s: %s", matchOf(m), m.Finding.Summary)
		}
		if got := caseRow(t, fx.st, c.ID); got.AccountID == nil || *got.AccountID != a.User.ID {
			t.Fatalf("case linked to %v, want %d", got.AccountID, a.User.ID)
		}
		want := []string{
			desk.AccountHistoryArgs{}.Kind(),
			desk.ClaimedProjectsArgs{}.Kind(),
			desk.EmailChallengeArgs{}.Kind(),
			desk.PrivateKnowledgeArgs{}.Kind(),
			desk.UploadHistoryArgs{}.Kind(),
		}
		if got := jobKinds(t, fx.st, c.ID); !slices.Equal(got, want) {
			t.Errorf("jobs after linking %v, want %v", got, want)
		}
		// Linking happens once: a second run enqueues nothing more.
		run(t, fx.ev, desk.AccountMatchArgs{CaseID: c.ID})
		if got := jobKinds(t, fx.st, c.ID); !slices.Equal(got, want) {
			t.Errorf("jobs after a second match %v, want %v", got, want)
		}
	})

	t.Run("gmail address starting with a non-ASCII letter", func(t *testing.T) {
		t.Parallel()
		// Internationalised local parts are valid (RFC 6532), and the
		// lookup must not cut the first character in half.
		local := "élodie" + strings.ReplaceAll(unique(""), "_", "x")
		a := seedAccountWith(t, fx.st, unique("elodie"), local+"@gmail.com")
		c := fx.insertCase(t, "É.lodie"+local[len("élodie"):]+"+rd@gmail.com", "", types.CaseIntake{Explanation: "I cannot sign in any more."})
		run(t, fx.ev, desk.AccountMatchArgs{CaseID: c.ID})
		m := onlyItem(t, fx.st, c.ID, desk.KindAccountMatch)
		if matchOf(m) != "true" || !strings.Contains(m.Finding.Summary, a.User.Username) {
			t.Errorf("account match %s: %s", matchOf(m), m.Finding.Summary)
		}
	})

	t.Run("the very address with compatibility characters", func(t *testing.T) {
		t.Parallel()
		// Stored as typed (lower case only); the requester types it the
		// same way. NFKC folding must not make the lookup miss it.
		address := "ｆｉｎｎ" + strings.ReplaceAll(unique(""), "_", "x") + "@example.org"
		a := seedAccountWith(t, fx.st, unique("finn"), address)
		c := fx.insertCase(t, address, "", types.CaseIntake{Explanation: "I cannot sign in any more."})
		run(t, fx.ev, desk.AccountMatchArgs{CaseID: c.ID})
		m := onlyItem(t, fx.st, c.ID, desk.KindAccountMatch)
		if matchOf(m) != "true" || !strings.Contains(m.Finding.Summary, a.User.Username) {
			t.Errorf("account match %s: %s", matchOf(m), m.Finding.Summary)
		}
	})

	t.Run("no account", func(t *testing.T) {
		t.Parallel()
		c := fx.submit(t, recoveryForm(unique("nobody"), unique("nobody")+"@example.net"))
		run(t, fx.ev, desk.AccountMatchArgs{CaseID: c.ID})
		m := onlyItem(t, fx.st, c.ID, desk.KindAccountMatch)
		if matchOf(m) != "false" {
			t.Errorf("Match %s, want false: %s", matchOf(m), m.Finding.Summary)
		}
		if got := latest(t, fx.st, c.ID); string(got.Recommendation) != string(desk.RecommendNeedMoreInfo) {
			t.Errorf("recommendation %s, want need_more_info (%q)", got.Recommendation, got.Reasons)
		}
		if got := caseRow(t, fx.st, c.ID); got.Recommendation == nil || *got.Recommendation != string(desk.RecommendNeedMoreInfo) {
			t.Errorf("case recommendation %v, want need_more_info", got.Recommendation)
		}
		// The jobs that need an account do nothing without one.
		run(t, fx.ev, allJobs(c.ID)[1:]...)
		if rows := caseItems(t, fx.st, c.ID, ""); len(rows) != 1 {
			t.Errorf("items without an account: %s", describeItems(rows))
		}
		if n := len(mails(t, fx.st, c.ID, desk.MailEmailChallenge)); n != 0 {
			t.Errorf("%d challenge mails without an account", n)
		}
	})

	t.Run("two accounts share a gmail mailbox", func(t *testing.T) {
		t.Parallel()
		local := strings.ReplaceAll(unique("tw"), "_", "y")
		a := seedAccountWith(t, fx.st, unique("twin"), local[:2]+"."+local[2:]+"@gmail.com")
		b := seedAccountWith(t, fx.st, unique("twin"), local+"+pypi@googlemail.com")
		c := fx.insertCase(t, local+"@gmail.com", "", types.CaseIntake{Explanation: "I cannot sign in any more."})
		run(t, fx.ev, desk.AccountMatchArgs{CaseID: c.ID})
		m := onlyItem(t, fx.st, c.ID, desk.KindAccountMatch)
		if matchOf(m) != "false" || !strings.Contains(m.Finding.Summary, "2 accounts") ||
			!strings.Contains(m.Finding.Summary, a.User.Username) || !strings.Contains(m.Finding.Summary, b.User.Username) {
			t.Errorf("Match %s: %s", matchOf(m), m.Finding.Summary)
		}
		if got := caseRow(t, fx.st, c.ID); got.AccountID != nil {
			t.Errorf("case linked to %d with two candidates", *got.AccountID)
		}
		if got := latest(t, fx.st, c.ID); string(got.Recommendation) != string(desk.RecommendNeedMoreInfo) {
			t.Errorf("recommendation %s, want need_more_info", got.Recommendation)
		}
		if got := jobKinds(t, fx.st, c.ID); len(got) != 0 {
			t.Errorf("jobs enqueued without a single account: %v", got)
		}
	})
}

// containsPrefix reports whether a line of lines starts with prefix.
func containsPrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// addToken creates an API token of the account made at created, scoped to
// p (nil: the whole account), revoked an hour later when revoked is set.
func (a *seeded) addToken(name string, created time.Time, p *ent.Project, revoked bool) *ent.APIToken {
	a.t.Helper()
	prefix := "rdt_" + strings.ReplaceAll(unique(""), "_", "")
	sum := sha256.Sum256([]byte(prefix))
	create := a.st.Ent.APIToken.Create().
		SetUserID(a.User.ID).SetName(name).SetPrefix(prefix).SetTokenHash(sum[:]).SetCreatedAt(created)
	if p != nil {
		create.SetProjectID(p.ID)
	}
	if revoked {
		create.SetRevokedAt(created.Add(time.Hour))
	}
	tok, err := create.Save(context.Background())
	if err != nil {
		a.t.Fatal(err)
	}
	return tok
}

func TestRecentAPITokenFlag(t *testing.T) {
	t.Parallel()
	fx := newEvidence(t)
	// Cases open at the real clock's now, a moment after the tokens.
	// PostgreSQL keeps microseconds.
	now := time.Now().Truncate(time.Microsecond)
	tests := []struct {
		name    string
		created time.Duration // from now
		scoped  bool          // to a project of the account
		revoked bool
		other   bool // the token is another account's
		flag    bool
	}{
		{name: "created a day before", created: -24 * time.Hour, flag: true},
		{name: "created six days before, for one project", created: -6 * 24 * time.Hour, scoped: true, flag: true},
		{name: "created sixty days before", created: -60 * 24 * time.Hour},
		{name: "revoked, created a day before", created: -24 * time.Hour, revoked: true, flag: true},
		{name: "another account's, created a day before", created: -24 * time.Hour, other: true},
		{name: "created after the request", created: time.Hour, flag: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := seedAccount(t, fx.st)
			holder := a
			if tt.other {
				holder = seedAccount(t, fx.st)
			}
			var scope *ent.Project
			if tt.scoped {
				scope = holder.addProject(unique("Scoped"), projectrole.RoleOwner, accountBorn, "")
			}
			name := unique("ci-")
			tok := holder.addToken(name, now.Add(tt.created), scope, tt.revoked)
			c := fx.submit(t, recoveryForm(a.User.Username, a.Primary))
			run(t, fx.ev, desk.AccountMatchArgs{CaseID: c.ID})

			rows := caseItems(t, fx.st, c.ID, desk.KindRecentToken)
			reasons := latest(t, fx.st, c.ID).Reasons
			if !tt.flag {
				if len(rows) != 0 {
					t.Errorf("flagged: %s", describeItems(rows))
				}
				if containsPrefix(reasons, "Red flag:") || caseRow(t, fx.st, c.ID).Risk != 0 {
					t.Errorf("red flags in the assessment: %q", reasons)
				}
				return
			}
			if len(rows) != 1 {
				t.Fatalf("%d token items, want 1: %s", len(rows), describeItems(rows))
			}
			flag := rows[0]
			if string(flag.Strength) != string(desk.StrengthRedFlag) || !strings.Contains(flag.Finding.Summary, `"`+name+`"`) ||
				flag.Finding.At == nil || !flag.Finding.At.Equal(tok.CreatedAt) {
				t.Errorf("flag %s at %v: %s", flag.Strength, flag.Finding.At, flag.Finding.Summary)
			}
			if strings.Contains(flag.Finding.Summary+fmt.Sprint(flag.Finding.Details), tok.Prefix) {
				t.Errorf("the token's prefix is shown: %s %v", flag.Finding.Summary, flag.Finding.Details)
			}
			wantScope := "every project of the account"
			if scope != nil {
				wantScope = "the project " + scope.Name
			}
			if !strings.Contains(flag.Finding.Summary, wantScope) {
				t.Errorf("summary lacks the scope %q: %s", wantScope, flag.Finding.Summary)
			}
			if got := strings.Contains(flag.Finding.Summary, "revoked"); got != tt.revoked {
				t.Errorf("summary says revoked %v, want %v: %s", got, tt.revoked, flag.Finding.Summary)
			}
			// The assessment counts it like any red flag.
			if !containsPrefix(reasons, `Red flag: API token "`+name+`"`) {
				t.Errorf("reasons lack the flag: %q", reasons)
			}
			if got := caseRow(t, fx.st, c.ID); got.Risk != 1 {
				t.Errorf("case risk %d, want 1", got.Risk)
			}
			// A second run stores nothing more.
			run(t, fx.ev, desk.AccountMatchArgs{CaseID: c.ID})
			if n := len(caseItems(t, fx.st, c.ID, desk.KindRecentToken)); n != 1 {
				t.Errorf("%d token items after a second run, want 1", n)
			}
		})
	}
}

func TestUploadHistoryTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newEvidence(t)
	a := seedAccount(t, fx.st)
	p := a.addProject(unique("tokened"), projectrole.RoleOwner, day(2020, 1, 1), "")
	tok := a.addToken("ci", day(2020, 1, 1), nil, false)
	upload := func(version string, at time.Time, token *ent.APIToken) {
		t.Helper()
		rel, err := fx.st.Ent.Release.Create().SetProjectID(p.ID).SetVersion(version).SetCreatedAt(at).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		filename := fmt.Sprintf("%s-%s.tar.gz", account.NormalizeProjectName(p.Name), version)
		sum := sha256.Sum256([]byte(filename))
		create := fx.st.Ent.ReleaseFile.Create().SetReleaseID(rel.ID).SetFilename(filename).SetSize(99).
			SetSha256(hex.EncodeToString(sum[:])).SetPackageType("sdist").SetUploadedAt(at).
			SetUploaderID(a.User.ID).SetStorageKey("files/" + filename)
		if token != nil {
			create.SetAPITokenID(token.ID)
		}
		if err := create.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	upload("1.0", day(2020, 2, 1), nil)
	upload("1.1", day(2021, 3, 4), tok)
	upload("1.2", time.Date(2022, 5, 6, 7, 8, 0, 0, time.UTC), tok)

	c := fx.submit(t, recoveryForm(a.User.Username, a.Primary))
	run(t, fx.ev, desk.UploadHistoryArgs{CaseID: c.ID})
	h := onlyItem(t, fx.st, c.ID, desk.KindUploadHistory)
	d := h.Finding.Details
	if d["last_version"] != "1.2" || d["last_via_token"] != true || fmt.Sprint(d["token_files"]) != "2" || d["last_at"] != "2022-05-06T07:08:00Z" {
		t.Errorf("details %v", d)
	}
	for _, want := range []string{"3 files in 3 releases", "version 1.2", "2 of them with an API token, the last one with", "2022-05-06"} {
		if !strings.Contains(h.Finding.Summary, want) {
			t.Errorf("summary lacks %q: %s", want, h.Finding.Summary)
		}
	}
}
