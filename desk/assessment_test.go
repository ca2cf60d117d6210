package desk_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/schema/types"
)

// assessNow is the fixed "now" of the assessment tests.
var assessNow = time.Date(2025, 6, 20, 12, 0, 0, 0, time.UTC)

// ev builds an evidence item; options set the finding's other fields.
func ev(kind string, s desk.Strength, source, summary string, opts ...func(*desk.Item)) desk.Item {
	it := desk.Item{
		Kind: kind, Strength: s, Source: source,
		Finding:    types.Finding{Summary: summary},
		RecordedAt: assessNow.Add(-time.Hour),
	}
	for _, o := range opts {
		o(&it)
	}
	return it
}

func matching(m bool) func(*desk.Item) {
	return func(it *desk.Item) { it.Finding.Match = &m }
}

func daysAgo(n int) func(*desk.Item) {
	return func(it *desk.Item) {
		at := assessNow.Add(-time.Duration(n) * 24 * time.Hour)
		it.Finding.At = &at
	}
}

func discounted(why string) func(*desk.Item) {
	return func(it *desk.Item) { it.Finding.Discounted = why }
}

func recordedAt(t time.Time) func(*desk.Item) {
	return func(it *desk.Item) { it.RecordedAt = t }
}

// The items the jobs record, as a legitimate owner or an attacker would
// produce them.
var (
	oneAccount    = ev(desk.KindAccountMatch, desk.StrengthPublic, "account_match", "The username and contact address point to account alice", matching(true))
	noAccount     = ev(desk.KindAccountMatch, desk.StrengthRedFlag, "account_match", "No account has the username alicee or the address alice@example.net", matching(false))
	twoAccounts   = ev(desk.KindAccountMatch, desk.StrengthRedFlag, "account_match", "The username points to alice, the address to alice-old", matching(false))
	emailProof    = ev(desk.KindEmailControl, desk.StrengthProof, "alice@example.org", "Controls alice@example.org, a verified address of the account")
	emailProof2   = ev(desk.KindEmailControl, desk.StrengthProof, "alice@work.example", "Controls alice@work.example, a verified address of the account")
	repoProof     = ev(desk.KindRepoControl, desk.StrengthProof, "https://github.com/alice/widget", "Pushed the challenge branch to github.com/alice/widget")
	contactEmail  = ev(desk.KindEmailControl, desk.StrengthPublic, "alice@example.net", "Reads alice@example.net, which is not an address of the account")
	rightCreated  = ev(desk.KindCreationDate, desk.StrengthPrivate, "private_knowledge", "Account created in March 2019, as claimed", matching(true))
	rightPrevious = ev(desk.KindPreviousEmail, desk.StrengthPrivate, "private_knowledge", "alice@old.example was an address of the account until 2021", matching(true))
	right2FA      = ev(desk.KindTwoFactorMethod, desk.StrengthPrivate, "private_knowledge", "The account uses a security key, as claimed", matching(true))
	wrongCreated  = ev(desk.KindCreationDate, desk.StrengthPrivate, "private_knowledge", "Claimed 2015; the account was created in March 2019", matching(false))
	wrongPrevious = ev(desk.KindPreviousEmail, desk.StrengthPrivate, "private_knowledge", "bob@old.example was never an address of the account", matching(false))
	wrong2FA      = ev(desk.KindTwoFactorMethod, desk.StrengthPrivate, "private_knowledge", "Claimed an app; the account uses a security key", matching(false))
	disavowal     = ev(desk.KindEmailDisavowed, desk.StrengthRedFlag, "alice@example.org", "the owner of alice@example.org says they did not ask for this recovery", daysAgo(0))
	emailChanged  = ev(desk.KindAccountChange, desk.StrengthRedFlag, "account_history", "Primary email changed to alice@evil.example", daysAgo(3))
	failedLogins  = ev(desk.KindFailedLogins, desk.StrengthRedFlag, "account_history", "42 failed sign-ins from 9 addresses", daysAgo(1))
	newDevice     = ev(desk.KindNewDevice, desk.StrengthRedFlag, "account_history", "Sign-in from a new browser in another country", daysAgo(2))
	otherCase     = ev(desk.KindOtherCase, desk.StrengthRedFlag, "account_match", "Case RD-7Q2M is also open for this account", daysAgo(10))
	notOnAccount  = ev(desk.KindContactNotOnAccount, desk.StrengthRedFlag, "account_match", "The contact address alice@example.net is not an address of the account")
	// The new primary address of a takeover: its link was clicked, but
	// the attacker added it.
	takenOverProof = ev(desk.KindEmailControl, desk.StrengthProof, "alice@evil.example", "Controls alice@evil.example, a verified address of the account", discounted("address became primary 3 days ago"))
)

// publicFacts is everything anyone can read about the account.
func publicFacts() []desk.Item {
	var out []desk.Item
	for i, p := range []string{"widget", "gadget", "sprocket", "flange"} {
		out = append(out,
			ev(desk.KindClaimedProject, desk.StrengthPublic, "claimed_projects", fmt.Sprintf("Owner of %s since 2019", p), matching(true)),
			ev(desk.KindUploadHistory, desk.StrengthPublic, "upload_history", fmt.Sprintf("%d uploads to %s, the last on 2025-05-0%d", 10+i, p, i+1), matching(true)),
		)
	}
	return append(out,
		ev(desk.KindClaimedOrganization, desk.StrengthPublic, "claimed_projects", "Member of the Widget org since 2020", matching(true)),
		ev(desk.KindUploadClaim, desk.StrengthPublic, "upload_history", "Last upload on 2025-05-04, as claimed", matching(true)),
	)
}

func items(groups ...any) []desk.Item {
	var out []desk.Item
	for _, g := range groups {
		switch g := g.(type) {
		case desk.Item:
			out = append(out, g)
		case []desk.Item:
			out = append(out, g...)
		default:
			panic(fmt.Sprintf("items: %T", g))
		}
	}
	return out
}

func TestAssess(t *testing.T) {
	tests := []struct {
		name  string
		items []desk.Item
		want  desk.Recommendation
		// headline is a substring of Reasons[0]; reasons are substrings
		// that some reason must contain; absent none may contain.
		headline string
		reasons  []string
		absent   []string
	}{
		{
			name:     "nothing found yet",
			want:     desk.RecommendNone,
			headline: "No evidence yet",
		},

		// Legitimate owners.
		{
			name:     "owner: verified address and a right private answer",
			items:    items(oneAccount, emailProof, rightCreated),
			want:     desk.RecommendApprove,
			headline: "Ready to approve: proof of control of a verified address, 1 right answer to private questions, no red flags.",
			reasons: []string{
				"Proof of control: Controls alice@example.org, a verified address of the account",
				"Private knowledge: Account created in March 2019, as claimed",
			},
		},
		{
			name:     "owner: verified address and repository",
			items:    items(oneAccount, emailProof, repoProof, publicFacts()),
			want:     desk.RecommendApprove,
			headline: "Ready to approve: proof of control of a verified address and the repository, no red flags.",
			reasons: []string{
				"Proof of control: Pushed the challenge branch to github.com/alice/widget",
				"10 public facts (claimed organisations, claimed projects, uploads): shown, never enough alone.",
			},
			absent: []string{"Owner of widget since 2019"},
		},
		{
			name:     "owner: two verified addresses",
			items:    items(emailProof, emailProof2),
			want:     desk.RecommendApprove,
			headline: "Ready to approve: proof of control of 2 verified addresses, no red flags.",
		},
		{
			name:     "owner: repository only",
			items:    items(oneAccount, repoProof, publicFacts()),
			want:     desk.RecommendNeedMoreInfo,
			headline: "One proof of control: ask the private questions, or get a second proof (email or repository challenge).",
		},
		{
			name: "owner: the same address confirmed twice is one proof",
			items: items(emailProof,
				ev(desk.KindEmailControl, desk.StrengthProof, "alice@example.org", "Controls alice@example.org again", recordedAt(assessNow))),
			want:     desk.RecommendNeedMoreInfo,
			headline: "One proof of control",
		},
		{
			name:     "verified address but more wrong answers than right",
			items:    items(oneAccount, emailProof, rightCreated, wrongPrevious, wrong2FA),
			want:     desk.RecommendChallenge,
			headline: "Proof of control, but 2 wrong answers against 1 right",
			reasons: []string{
				"Wrong answer: bob@old.example was never an address of the account",
				"Wrong answer: Claimed an app; the account uses a security key",
				"Private knowledge: Account created in March 2019, as claimed",
			},
		},
		{
			name:     "verified address, as many wrong answers as right",
			items:    items(emailProof, rightCreated, wrong2FA),
			want:     desk.RecommendChallenge,
			headline: "Proof of control, but 1 wrong answer against 1 right",
		},
		{
			name:     "two proofs but only a wrong answer",
			items:    items(emailProof, repoProof, wrong2FA),
			want:     desk.RecommendChallenge,
			headline: "Proof of control, but 1 wrong answer against 0 right",
		},

		// Attackers who know everything public.
		{
			name:     "attacker: every public fact",
			items:    items(oneAccount, contactEmail, publicFacts()),
			want:     desk.RecommendChallenge,
			headline: "Only public knowledge: send a challenge.",
			reasons:  []string{"11 public facts (claimed organisations, claimed projects, contact address, uploads): shown, never enough alone."},
		},
		{
			name:     "attacker: every public fact and every private answer right",
			items:    items(oneAccount, contactEmail, publicFacts(), rightCreated, rightPrevious, right2FA),
			want:     desk.RecommendChallenge,
			headline: "Only knowledge, no proof of control: send a challenge.",
		},
		{
			name:     "attacker: every public fact, private answers wrong",
			items:    items(oneAccount, publicFacts(), wrongCreated, wrongPrevious),
			want:     desk.RecommendDeny,
			headline: "Wrong answers to 2 private questions and no proof of control.",
			reasons:  []string{"Wrong answer: Claimed 2015; the account was created in March 2019"},
		},
		{
			name:     "attacker: one wrong answer is not yet a denial",
			items:    items(oneAccount, publicFacts(), wrongCreated),
			want:     desk.RecommendChallenge,
			headline: "Only public knowledge",
		},

		// A takeover in progress.
		{
			name:     "takeover: primary email changed, the new address's proof is discounted",
			items:    items(oneAccount, emailChanged, takenOverProof, rightCreated, publicFacts()),
			want:     desk.RecommendChallenge,
			headline: "Red flags block an approval",
			reasons: []string{
				"Red flag: Primary email changed to alice@evil.example (3 days before the request)",
				"Not counted: Controls alice@evil.example, a verified address of the account (address became primary 3 days ago)",
			},
			absent: []string{"Proof of control: "},
		},
		{
			name:     "takeover: discounted proof alone",
			items:    items(takenOverProof, publicFacts()),
			want:     desk.RecommendChallenge,
			headline: "No proof of control that counts",
		},
		{
			name:     "takeover: failed logins and a new device block two proofs",
			items:    items(oneAccount, failedLogins, newDevice, emailProof, repoProof, rightCreated),
			want:     desk.RecommendChallenge,
			headline: "Red flags block an approval: confirm with the owner's verified address or the repository, or have a second admin review.",
			reasons: []string{
				"Red flag: 42 failed sign-ins from 9 addresses (1 day before the request)",
				"Red flag: Sign-in from a new browser in another country (2 days before the request)",
				"Proof of control: Controls alice@example.org, a verified address of the account",
			},
		},
		{
			name:     "takeover: the owner disavowed, whatever the proofs",
			items:    items(oneAccount, disavowal, emailProof2, repoProof, rightCreated, right2FA),
			want:     desk.RecommendDeny,
			headline: "the owner says they did not ask for this recovery",
			reasons:  []string{"Red flag: the owner of alice@example.org says they did not ask for this recovery (the day of the request)"},
		},
		{
			name:     "another open case for the account",
			items:    items(oneAccount, otherCase, emailProof, emailProof2),
			want:     desk.RecommendChallenge,
			headline: "Red flags block an approval",
			reasons:  []string{"Red flag: Case RD-7Q2M is also open for this account (10 days before the request)"},
		},
		{
			name:     "contact address not on the account",
			items:    items(oneAccount, notOnAccount, contactEmail, repoProof, rightCreated),
			want:     desk.RecommendChallenge,
			headline: "Red flags block an approval",
			// No date: the finding has none.
			reasons: []string{"Red flag: The contact address alice@example.net is not an address of the account"},
			absent:  []string{"not an address of the account ("},
		},

		// The account is unclear.
		{
			name:     "no account matches",
			items:    items(noAccount, emailProof, repoProof),
			want:     desk.RecommendNeedMoreInfo,
			headline: "No account has the username alicee or the address alice@example.net",
		},
		{
			name:     "username and address point to different accounts",
			items:    items(twoAccounts, publicFacts()),
			want:     desk.RecommendNeedMoreInfo,
			headline: "The username points to alice, the address to alice-old",
		},
		{
			name: "the latest account match decides",
			items: items(noAccount, emailProof, repoProof,
				ev(desk.KindAccountMatch, desk.StrengthPublic, "account_match", "Now points to alice", matching(true), recordedAt(assessNow))),
			want:     desk.RecommendApprove,
			headline: "Ready to approve",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := desk.Assess(tc.items, assessNow)
			if got.Recommendation != tc.want {
				t.Errorf("recommendation = %q, want %q; reasons:\n%s", got.Recommendation, tc.want, strings.Join(got.Reasons, "\n"))
			}
			if len(got.Reasons) == 0 {
				t.Fatal("no reasons")
			}
			if !strings.Contains(got.Reasons[0], tc.headline) {
				t.Errorf("headline = %q, want it to contain %q", got.Reasons[0], tc.headline)
			}
			for _, want := range tc.reasons {
				if !slices.ContainsFunc(got.Reasons, func(r string) bool { return strings.Contains(r, want) }) {
					t.Errorf("no reason contains %q; reasons:\n%s", want, strings.Join(got.Reasons, "\n"))
				}
			}
			for _, bad := range tc.absent {
				if slices.ContainsFunc(got.Reasons, func(r string) bool { return strings.Contains(r, bad) }) {
					t.Errorf("a reason contains %q; reasons:\n%s", bad, strings.Join(got.Reasons, "\n"))
				}
			}
		})
	}
}

// TestAssessReasonOrder checks the reasons come headline first, then red
// flags, proofs, proofs not counted, private answers and the public line.
func TestAssessReasonOrder(t *testing.T) {
	got := desk.Assess(items(publicFacts(), wrong2FA, rightCreated, takenOverProof, emailProof, failedLogins), assessNow)
	prefixes := []string{"Red flags block", "Red flag: ", "Proof of control: ", "Not counted: ", "Private knowledge: ", "Wrong answer: ", "10 public facts"}
	var order []int
	for _, r := range got.Reasons {
		i := slices.IndexFunc(prefixes, func(p string) bool { return strings.HasPrefix(r, p) })
		if i < 0 {
			t.Fatalf("unexpected reason %q", r)
		}
		order = append(order, i)
	}
	// Private knowledge and wrong answers are one group, in item order.
	for i := range order {
		if order[i] == 5 {
			order[i] = 4
		}
	}
	if !slices.IsSorted(order) || len(order) != len(prefixes) {
		t.Errorf("reasons out of order:\n%s", strings.Join(got.Reasons, "\n"))
	}
}

// TestAssessDates checks how a red flag's date is rendered: recent days
// matter to staff, old events only need a date.
func TestAssessDates(t *testing.T) {
	tests := []struct {
		at   time.Time
		want string
	}{
		{assessNow.Add(-time.Hour), "(the day of the request)"},
		{assessNow.Add(time.Hour), "(the day of the request)"},
		{assessNow.Add(50 * time.Hour), "(2 days after the request)"},
		{assessNow.Add(-25 * time.Hour), "(1 day before the request)"},
		{assessNow.Add(-3 * 24 * time.Hour), "(3 days before the request)"},
		{assessNow.Add(-14 * 24 * time.Hour), "(14 days before the request)"},
		{assessNow.Add(-21 * 24 * time.Hour), "(3 weeks before the request)"},
		{assessNow.Add(-90 * 24 * time.Hour), "(12 weeks before the request)"},
		{time.Date(2024, 11, 5, 8, 0, 0, 0, time.UTC), "(2024-11-05)"},
	}
	for _, tc := range tests {
		flag := ev(desk.KindAccountChange, desk.StrengthRedFlag, "account_history", "Password changed")
		flag.Finding.At = &tc.at
		got := desk.Assess([]desk.Item{flag}, assessNow)
		if want := "Red flag: Password changed " + tc.want; !slices.Contains(got.Reasons, want) {
			t.Errorf("at %s: reasons %q, want %q", tc.at, got.Reasons, want)
		}
	}
}

// TestAssessDeterministic checks that the order of the items does not
// change the assessment, and that Assess leaves its input alone.
func TestAssessDeterministic(t *testing.T) {
	in := items(oneAccount, emailChanged, failedLogins, takenOverProof, emailProof, repoProof, rightCreated, wrong2FA, contactEmail, publicFacts())
	// Equal timestamps everywhere, so only the tie-breaks order them.
	for i := range in {
		in[i].RecordedAt = assessNow
	}
	want := desk.Assess(in, assessNow)
	r := rand.New(rand.NewPCG(3, 4))
	for range 50 {
		shuffled := slices.Clone(in)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		before := slices.Clone(shuffled)
		if got := desk.Assess(shuffled, assessNow); !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffled input gave\n%s\nwant\n%s", strings.Join(got.Reasons, "\n"), strings.Join(want.Reasons, "\n"))
		}
		if !reflect.DeepEqual(shuffled, before) {
			t.Fatal("Assess reordered its input")
		}
	}
}

// TestAssessNeverApprovesWithoutProof is the security property: whatever
// an attacker knows, public or private, without a proof of control that
// counts the assessment never approves; and no red flag is ever
// approved past.
func TestAssessNeverApprovesWithoutProof(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	publicKinds := []string{desk.KindClaimedProject, desk.KindClaimedOrganization, desk.KindUploadHistory, desk.KindUploadClaim, desk.KindEmailControl}
	privateKinds := []string{desk.KindCreationDate, desk.KindPreviousEmail, desk.KindTwoFactorMethod}
	redKinds := []string{desk.KindAccountChange, desk.KindFailedLogins, desk.KindNewDevice, desk.KindOtherCase, desk.KindContactNotOnAccount}
	proofKinds := []string{desk.KindEmailControl, desk.KindRepoControl}
	pick := func(l []string) string { return l[r.IntN(len(l))] }
	boolp := func() *bool { b := r.IntN(4) > 0; return &b } // mostly right

	approvals := 0
	for n := range 20000 {
		var in []desk.Item
		add := func(kind string, s desk.Strength, f types.Finding) {
			in = append(in, desk.Item{
				Kind: kind, Strength: s, Source: fmt.Sprintf("src%d", r.IntN(3)), Finding: f,
				RecordedAt: assessNow.Add(-time.Duration(r.IntN(1000)) * time.Minute),
			})
		}
		if r.IntN(2) == 0 {
			add(desk.KindAccountMatch, desk.StrengthPublic, types.Finding{Summary: "account", Match: boolp()})
		}
		for range r.IntN(30) {
			add(pick(publicKinds), desk.StrengthPublic, types.Finding{Summary: "public", Match: boolp()})
		}
		for range r.IntN(6) {
			add(pick(privateKinds), desk.StrengthPrivate, types.Finding{Summary: "private", Match: boolp()})
		}
		for range r.IntN(3) {
			add(pick(proofKinds), desk.StrengthProof, types.Finding{Summary: "proof", Discounted: "added 2 days ago"})
		}
		redFlags := r.IntN(3) == 0
		if redFlags {
			add(pick(redKinds), desk.StrengthRedFlag, types.Finding{Summary: "red flag"})
		}
		// Half the time a real proof or two, so approvals happen and the
		// red flag half of the property is exercised.
		proofs := r.IntN(2) == 0
		if proofs {
			for range 1 + r.IntN(2) {
				add(pick(proofKinds), desk.StrengthProof, types.Finding{Summary: "proof"})
			}
		}

		got := desk.Assess(in, assessNow)
		if got.Recommendation == desk.RecommendApprove {
			approvals++
			if !proofs || redFlags {
				t.Fatalf("case %d (proof %v, red flag %v) approved:\n%s", n, proofs, redFlags, strings.Join(got.Reasons, "\n"))
			}
		}
		if len(in) > 0 && (len(got.Reasons) == 0 || got.Recommendation == desk.RecommendNone) {
			t.Fatalf("case %d: %d items gave %q with %d reasons", n, len(in), got.Recommendation, len(got.Reasons))
		}
	}
	// The property would hold trivially if nothing were ever approved.
	if approvals == 0 {
		t.Fatal("no combination was approved")
	}
}

func BenchmarkAssess(b *testing.B) {
	in := items(oneAccount, emailChanged, failedLogins, newDevice, takenOverProof, emailProof, repoProof, rightCreated, wrong2FA, contactEmail, publicFacts())
	if len(in) != 20 {
		b.Fatalf("%d items, want 20", len(in))
	}
	for b.Loop() {
		desk.Assess(in, assessNow)
	}
}
