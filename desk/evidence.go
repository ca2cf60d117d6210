package desk

import (
	"time"

	"github.com/recoverydesk/recoverydesk/ent/schema/types"
)

// Ownership evidence: background jobs look at what the requester claims
// and at the account's record, and store what they find as evidence items
// of four strengths. The assessment (assessment.go) reads the items of a
// case and recommends what to do next.

// Strength is how much an evidence item says about who owns the account;
// the values are EvidenceItem.strength's.
type Strength string

// The strengths of evidence, strongest first.
const (
	// StrengthProof is proof of control: the requester did something only
	// the owner can (clicked a link sent to a verified address, pushed a
	// branch to the project's repository).
	StrengthProof Strength = "proof_of_control"
	// StrengthPrivate is private knowledge: facts only the owner is likely
	// to know (when the account was made, a former address, the 2FA type).
	StrengthPrivate Strength = "private_knowledge"
	// StrengthPublic is public knowledge: claimed projects, upload dates.
	// Anyone can read them, so they are shown but never enough alone.
	StrengthPublic Strength = "public_knowledge"
	// StrengthRedFlag is a sign of an attack or a takeover in progress.
	StrengthRedFlag Strength = "red_flag"
)

// The kinds of evidence item. A kind says what was checked; its strength
// is fixed by the job that records it.
const (
	// KindAccountMatch: which accounts the username and contact address
	// point to (Match: exactly one).
	KindAccountMatch = "account_match"
	// KindContactNotOnAccount: the contact address is not an address of
	// the account (red flag).
	KindContactNotOnAccount = "contact_not_on_account"
	// KindClaimedProject and KindClaimedOrganization: a claimed name, and
	// the account's role in it since when (Match: it has one).
	KindClaimedProject      = "claimed_project"
	KindClaimedOrganization = "claimed_organization"
	// KindUploadHistory: the account's uploads to one project.
	KindUploadHistory = "upload_history"
	// KindUploadClaim: the claimed last upload against the real one.
	KindUploadClaim = "upload_claim"
	// KindEmailControl: a challenge link mailed to an address was
	// clicked and confirmed. Proof of control for a verified address of
	// the account; public knowledge for the contact address when it is not
	// on the account (it shows the requester reads it, nothing more).
	KindEmailControl = "email_control"
	// KindEmailDisavowed: someone reading a verified address of the
	// account said they did not ask for this recovery (red flag).
	KindEmailDisavowed = "email_disavowed"
	// KindContactDisavowed: whoever reads the contact address (not on the
	// account) said they did not ask for this recovery (red flag).
	KindContactDisavowed = "contact_disavowed"
	// KindRepoControl: the challenge branch appeared in the project's
	// repository (proof of control).
	KindRepoControl = "repo_control"
	// KindAccountChange: a recent change of primary email, password or
	// second factors (red flag).
	KindAccountChange = "account_change"
	// KindFailedLogins: a burst of failed sign-ins (red flag).
	KindFailedLogins = "failed_logins"
	// KindNewDevice: a recent sign-in from a new browser (red flag).
	KindNewDevice = "new_device"
	// KindOtherCase: another open case for the same account (red flag).
	KindOtherCase = "other_case"
	// KindCreationDate, KindPreviousEmail, KindTwoFactorMethod: the
	// answers to the private questions against the record (Match).
	KindCreationDate    = "creation_date"
	KindPreviousEmail   = "previous_email"
	KindTwoFactorMethod = "two_factor_method"
)

// Item is one evidence item as the assessment and the case page see it.
type Item struct {
	Kind     string
	Strength Strength
	// Source says where the finding comes from: the job, the repository
	// URL, the address a link was sent to.
	Source  string
	Finding types.Finding
	// RecordedAt is when the job stored the item.
	RecordedAt time.Time
}

// Recommendation is the assessment's advice; the values are
// Assessment.recommendation's.
type Recommendation string

// The recommendations.
const (
	// RecommendApprove: the evidence is enough to approve the reset.
	RecommendApprove Recommendation = "approve"
	// RecommendChallenge: ask for proof of control (an email or
	// repository challenge) before deciding.
	RecommendChallenge Recommendation = "challenge"
	// RecommendNeedMoreInfo: the account is unclear or the answers are
	// too thin; ask the requester.
	RecommendNeedMoreInfo Recommendation = "need_more_info"
	// RecommendDeny: the evidence speaks against the requester.
	RecommendDeny Recommendation = "deny"
	// RecommendNone: nothing has been found yet.
	RecommendNone Recommendation = "none"
)

// Describe is the recommendation in words, for staff.
func (r Recommendation) Describe() string {
	switch r {
	case RecommendApprove:
		return "Ready to approve"
	case RecommendChallenge:
		return "Send a challenge"
	case RecommendNeedMoreInfo:
		return "Ask for more information"
	case RecommendDeny:
		return "Deny"
	default:
		return "Gathering evidence"
	}
}

// Assessment is the assessment's verdict on a set of items.
type Assessment struct {
	Recommendation Recommendation
	// Reasons explain the recommendation, most important first, each one
	// sentence with dates where they matter.
	Reasons []string
}
