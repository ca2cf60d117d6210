package desk

import (
	"regexp"
	"strings"

	"github.com/recoverydesk/recoverydesk/ent/supportcase"
)

// cannot matches the ways people write "cannot".
const cannot = `(can ?not|can'?t|unable to|could ?not|could ?n'?t|not able to|no longer able to)`

// recoveryPhrase matches wording that alone says "I cannot get in".
var recoveryPhrase = regexp.MustCompile(`\b(` + strings.Join([]string{
	`locked out`, `lock(ed)? me out`, `account recovery`, `recover (my )?account`,
	`regain access`, `lost access`, `no (longer have )?access to my account`,
	cannot + ` (log|sign) ?in(to)?\b`,
	cannot + ` (access|get into|use) my account`,
	`(lost|stolen|broke|broken|new|replaced|reset|wiped) (my )?(phone|mobile|cell ?phone)`,
	`(phone|mobile) (was |got |has been )?(lost|stolen|broken|broke|died|wiped|reset)`,
}, "|") + `)`)

// secondFactor and trouble match together: "authenticator" alone may be a
// setup question, "lost" alone may be anything.
var (
	secondFactor = regexp.MustCompile(`\b(2fa|mfa|two factor|2 factor|second factor|multi factor|` +
		`authenticator|totp|otp|one time (code|password)|recovery codes?|backup codes?|` +
		`security keys?|yubikeys?|passkeys?|verification codes?)\b`)
	trouble = regexp.MustCompile(`\b(lost|lose|losing|stolen|broke|broken|reset|disable|remove|` +
		`turn off|no longer|don'?t have|do not have|missing|gone|wiped|deleted|uninstalled|` +
		`died|not working|does ?n'?t work|can ?n?'?t find|without|new phone|replaced)\b`)
)

// textNormalizer folds the spellings people type into one: typographic
// apostrophes, hyphens ("two-factor", "log-in") and line breaks.
var textNormalizer = strings.NewReplacer("\u2019", "'", "\u2018", "'", "-", " ", "\u2010", " ",
	"\n", " ", "\r", " ", "\t", " ")

// LooksLikeRecovery reports whether an email that opens a new case reads
// like someone who lost access to their second factor (lost phone or
// authenticator, recovery codes, a lost security key, "locked out", "can't
// log in", "reset 2FA"). It is a keyword heuristic for English that only
// picks the kind of the new case (see CaseKind); it
// decides nothing else, and staff can change the kind.
func LooksLikeRecovery(subject, body string) bool {
	text := strings.ToLower(textNormalizer.Replace(subject + " \n " + body))
	if recoveryPhrase.MatchString(text) {
		return true
	}
	return secondFactor.MatchString(text) && trouble.MatchString(text)
}

// CaseKind returns the kind of a case opened by an email: recovery when
// LooksLikeRecovery, else general.
func CaseKind(subject, body string) supportcase.Kind {
	if LooksLikeRecovery(subject, body) {
		return supportcase.KindRecovery
	}
	return supportcase.KindGeneral
}
