package desk

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Assess summarises the evidence items of a case into a recommendation with
// reasons.
//
// The rules, first match wins:
//
//  1. No items: none yet.
//  2. The owner disavowed the recovery from a verified address: deny.
//  3. The username and contact address do not point to exactly one
//     account: need more information. (No account match yet does not
//     block.)
//  4. Approve only with at least one proof of control that counts, no red
//     flags, a second proof of another kind or source or a right answer to
//     a private question, and more right answers than wrong ones when
//     there are answers.
//  5. No proof, two or more wrong answers and no right one: deny.
//  6. Red flags: challenge; they block an approval whatever else is there.
//  7. Proof, but not enough: challenge after wrong answers, otherwise
//     need more information (the private questions, or a second proof).
//  8. Knowledge only: challenge.
//
// Public knowledge never counts towards an approval, however much of it
// there is, and neither do discounted proofs: anyone can read the former,
// and the latter are what a takeover in progress looks like. The reasons
// start with a headline, then list red flags, proofs, proofs not counted,
// private answers and one line for the public facts. Items are sorted
// before they are read, so equal input gives equal output in any order;
// items is not modified.
func Assess(items []Item, requested time.Time) Assessment {
	if len(items) == 0 {
		return Assessment{
			Recommendation: RecommendNone,
			Reasons:        []string{"No evidence yet: the checks are still running."},
		}
	}
	e := sortEvidence(items, requested)
	rec, headline := e.decide()
	return Assessment{Recommendation: rec, Reasons: append([]string{headline}, e.lines()...)}
}

// sortedEvidence is the items of a case sorted into what the rules read.
type sortedEvidence struct {
	disavowed    []Item // owner disavowals (also listed with the red flags)
	redFlags     []string
	accountMatch *Item // the latest account match, if any
	proofs       []Item
	proofLines   []string
	discounted   []string
	rightAnswers int
	wrongAnswers int
	private      []string
	public       []Item
	publicWrong  int
}

func sortEvidence(items []Item, requested time.Time) sortedEvidence {
	sorted := slices.Clone(items)
	slices.SortFunc(sorted, compareItems)
	var e sortedEvidence
	for i := range sorted {
		it := sorted[i]
		summary := strings.TrimSuffix(strings.TrimSpace(it.Finding.Summary), ".")
		switch {
		case it.Kind == KindEmailDisavowed:
			// A disavowal is a red flag whatever strength it was stored
			// with; it is read by kind so a mislabelled one still denies.
			e.disavowed = append(e.disavowed, it)
			e.redFlags = append(e.redFlags, redFlagLine(summary, it, requested))
		case it.Kind == KindAccountMatch:
			// Read by kind whatever its strength; sorted by RecordedAt,
			// so the last one is the latest run.
			e.accountMatch = &sorted[i]
		case it.Strength == StrengthRedFlag:
			// Red flags are never discounted: a reason to doubt one is
			// for staff to weigh, not the rules.
			e.redFlags = append(e.redFlags, redFlagLine(summary, it, requested))
		case it.Finding.Discounted != "":
			e.discounted = append(e.discounted, fmt.Sprintf("Not counted: %s (%s)", summary, it.Finding.Discounted))
		case it.Strength == StrengthProof:
			e.proofs = append(e.proofs, it)
			e.proofLines = append(e.proofLines, "Proof of control: "+summary)
		case it.Strength == StrengthPrivate:
			switch {
			case it.Finding.Match == nil:
				e.private = append(e.private, "Not compared: "+summary)
			case *it.Finding.Match:
				e.rightAnswers++
				e.private = append(e.private, "Private knowledge: "+summary)
			default:
				e.wrongAnswers++
				e.private = append(e.private, "Wrong answer: "+summary)
			}
		case it.Strength == StrengthPublic:
			e.public = append(e.public, it)
			if it.Finding.Match != nil && !*it.Finding.Match {
				e.publicWrong++
			}
		default:
			// An unknown strength must not count towards anything.
			e.discounted = append(e.discounted, fmt.Sprintf("Not counted: %s (unknown strength %q)", summary, it.Strength))
		}
	}
	return e
}

// decide is the ladder of rules; the first that matches gives the
// recommendation and the headline.
func (e sortedEvidence) decide() (Recommendation, string) {
	proofs := len(e.proofs)
	switch {
	case len(e.disavowed) > 0:
		return RecommendDeny, "Deny: the owner says they did not ask for this recovery."
	case e.accountMatch != nil && (e.accountMatch.Finding.Match == nil || !*e.accountMatch.Finding.Match):
		return RecommendNeedMoreInfo, "Account unclear: " + strings.TrimSuffix(e.accountMatch.Finding.Summary, ".") + "; ask the requester which account."
	case proofs > 0 && len(e.redFlags) == 0 &&
		(distinctProofs(e.proofs) >= 2 || e.rightAnswers > 0) &&
		(e.rightAnswers+e.wrongAnswers == 0 || e.wrongAnswers < e.rightAnswers):
		return RecommendApprove, e.approveHeadline()
	case proofs == 0 && e.wrongAnswers >= 2 && e.rightAnswers == 0:
		return RecommendDeny, fmt.Sprintf("Wrong answers to %d private questions and no proof of control.", e.wrongAnswers)
	case len(e.redFlags) > 0:
		return RecommendChallenge, "Red flags block an approval: confirm with the owner's verified address or the repository, or have a second admin review."
	case proofs > 0 && e.wrongAnswers > 0 && e.wrongAnswers >= e.rightAnswers:
		return RecommendChallenge, fmt.Sprintf("Proof of control, but %s against %d right: a second proof of control is needed.", countNoun(e.wrongAnswers, "wrong answer", "wrong answers"), e.rightAnswers)
	case proofs > 0 && e.wrongAnswers == 0:
		// The requester answered no private question: ask them, or start
		// a repository challenge for a second proof.
		return RecommendNeedMoreInfo, "One proof of control: ask the private questions, or get a second proof (email or repository challenge)."
	case e.rightAnswers > 0:
		return RecommendChallenge, "Only knowledge, no proof of control: send a challenge."
	case len(e.discounted) > 0:
		return RecommendChallenge, "No proof of control that counts: send a challenge."
	default:
		return RecommendChallenge, "Only public knowledge: send a challenge."
	}
}

// lines are the reasons after the headline, in their fixed order.
func (e sortedEvidence) lines() []string {
	var out []string
	out = append(out, e.redFlags...)
	out = append(out, e.proofLines...)
	out = append(out, e.discounted...)
	out = append(out, e.private...)
	if line := publicLine(e.public, e.publicWrong); line != "" {
		out = append(out, line)
	}
	return out
}

// approveHeadline names what the approval rests on, e.g. "Ready to
// approve: proof of control of a verified address and the repository, no
// red flags."
func (e sortedEvidence) approveHeadline() string {
	sources := map[string]map[string]bool{}
	var kinds []string
	for _, p := range e.proofs {
		if sources[p.Kind] == nil {
			sources[p.Kind] = map[string]bool{}
			kinds = append(kinds, p.Kind)
		}
		sources[p.Kind][p.Source] = true
	}
	slices.SortFunc(kinds, func(a, b string) int {
		return cmp.Or(cmp.Compare(proofKindRank(a), proofKindRank(b)), cmp.Compare(a, b))
	})
	var parts []string
	for _, k := range kinds {
		n := len(sources[k])
		switch k {
		case KindEmailControl:
			parts = append(parts, nounPhrase(n, "a verified address", "verified addresses"))
		case KindRepoControl:
			parts = append(parts, nounPhrase(n, "the repository", "repositories"))
		default:
			parts = append(parts, nounPhrase(n, strings.ReplaceAll(k, "_", " "), strings.ReplaceAll(k, "_", " ")+"s"))
		}
	}
	h := "Ready to approve: proof of control of " + joinWithAnd(parts)
	if e.rightAnswers > 0 {
		h += ", " + countNoun(e.rightAnswers, "right answer", "right answers") + " to private questions"
	}
	return h + ", no red flags."
}

// publicLine is one line for all public facts: listing each would make
// them look like they add up, and they never do.
func publicLine(public []Item, wrong int) string {
	if len(public) == 0 {
		return ""
	}
	var labels []string
	for _, p := range public {
		if l := publicLabel(p.Kind); !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	slices.Sort(labels)
	line := fmt.Sprintf("%s (%s)", countNoun(len(public), "public fact", "public facts"), strings.Join(labels, ", "))
	if wrong > 0 {
		line += fmt.Sprintf(", %d not matching the record", wrong)
	}
	return line + ": shown, never enough alone."
}

func publicLabel(kind string) string {
	switch kind {
	case KindClaimedProject:
		return "claimed projects"
	case KindClaimedOrganization:
		return "claimed organisations"
	case KindUploadHistory, KindUploadClaim:
		return "uploads"
	case KindEmailControl:
		return "contact address"
	default:
		return strings.ReplaceAll(kind, "_", " ")
	}
}

func redFlagLine(summary string, it Item, requested time.Time) string {
	line := "Red flag: " + summary
	if it.Finding.At != nil {
		line += " (" + sinceRequest(*it.Finding.At, requested) + ")"
	}
	return line
}

// sinceRequest renders when something happened relative to the request,
// the way staff weigh it: recent days count, older events only need a
// date. Relative to the request, not to the clock, so that an assessment
// recomputed next week says the same.
func sinceRequest(at, requested time.Time) string {
	d := requested.Sub(at)
	after := d < 0
	if after {
		d = -d
	}
	days := int(d / (24 * time.Hour))
	var span string
	switch {
	case days == 0:
		return "the day of the request"
	case days == 1:
		span = "1 day"
	case days <= 14:
		span = fmt.Sprintf("%d days", days)
	case days <= 90:
		span = fmt.Sprintf("%d weeks", days/7)
	default:
		return at.Format("2006-01-02")
	}
	if after {
		return span + " after the request"
	}
	return span + " before the request"
}

// distinctProofs counts proofs of different kinds or sources: the same
// link clicked twice is one proof.
func distinctProofs(proofs []Item) int {
	seen := map[[2]string]bool{}
	for _, p := range proofs {
		seen[[2]string{p.Kind, p.Source}] = true
	}
	return len(seen)
}

func proofKindRank(kind string) int {
	switch kind {
	case KindEmailControl:
		return 0
	case KindRepoControl:
		return 1
	default:
		return 2
	}
}

// compareItems orders items by RecordedAt, Kind and Source, then by every
// field the reasons show, so items in any order give the same reasons.
func compareItems(a, b Item) int {
	return cmp.Or(
		a.RecordedAt.Compare(b.RecordedAt),
		cmp.Compare(a.Kind, b.Kind),
		cmp.Compare(a.Source, b.Source),
		cmp.Compare(a.Strength, b.Strength),
		cmp.Compare(a.Finding.Summary, b.Finding.Summary),
		cmp.Compare(a.Finding.Discounted, b.Finding.Discounted),
		cmp.Compare(findingMatchRank(a.Finding.Match), findingMatchRank(b.Finding.Match)),
		compareOptionalTimes(a.Finding.At, b.Finding.At),
	)
}

func findingMatchRank(m *bool) int {
	switch {
	case m == nil:
		return 0
	case *m:
		return 2
	default:
		return 1
	}
}

func compareOptionalTimes(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	default:
		return a.Compare(*b)
	}
}

// nounPhrase is one when n is 1 ("a verified address"), else n and many.
func nounPhrase(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// countNoun is n and one or many: "1 public fact", "3 public facts".
func countNoun(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func joinWithAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	default:
		return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
	}
}
