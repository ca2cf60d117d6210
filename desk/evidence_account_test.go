package desk_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/recoverydesk/recoverydesk/desk"
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
