package desk

import (
	"fmt"
	"math"
	"net/mail"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// RecoveryForm is what a requester fills in on /recover.
type RecoveryForm struct {
	// Username is the account to recover (it may not exist).
	Username string
	// ContactEmail is where we write; it need not be on the account.
	ContactEmail string
	// Name is how to address the requester; optional.
	Name string
	// What the requester still has.
	HasPassword, HasEmailAccess, HasRecoveryCodes, HasDevice bool
	// Explanation is what happened, in their words.
	Explanation string
	// ClaimedProjects and ClaimedOrganizations are names separated by
	// commas or line breaks.
	ClaimedProjects, ClaimedOrganizations string
	// The private questions, all optional. AccountCreated and LastUpload
	// are months ("2019-03", as an <input type=month> sends them),
	// PreviousEmails addresses separated by commas or line breaks, and
	// TwoFactorMethod one of the Method* values or "".
	AccountCreated, LastUpload string
	PreviousEmails             string
	TwoFactorMethod            string
	// Honeypot is a field people never see; only bots fill it in.
	Honeypot string
}

// MaxPreviousEmails bounds the previous addresses a requester may list.
const MaxPreviousEmails = 5

// Limits of the form.
const (
	MinExplanation = 20
	MaxExplanation = 10000
	MaxClaims      = 20
	maxNameLen     = 100
	maxClaimLen    = 100
	maxUsernameLen = 50
	maxEmailLen    = 254
)

// FieldErrors maps a form field (username, contact_email, name,
// explanation, claimed_projects, claimed_organizations, text) to what is
// wrong with it; web shows each message next to its field.
type FieldErrors map[string]string

func (e FieldErrors) Error() string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e[k]
	}
	return "desk: " + strings.Join(parts, "; ")
}

// RateLimitedError says a submission was refused by a rate limit.
type RateLimitedError struct {
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string { return "desk: " + e.Message() }

// Message is the sentence a person reads.
func (e *RateLimitedError) Message() string {
	minutes := int(math.Ceil(e.RetryAfter.Minutes()))
	wait := "a minute"
	if minutes > 1 {
		wait = fmt.Sprintf("%d minutes", minutes)
	}
	return "We have received several requests from you recently. Your earlier requests are being handled; to add something, use the link in their acknowledgement email, or wait " + wait + " and try again."
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// normalize trims f, splits the claimed names (kept in their canonical
// form: trimmed, de-duplicated case-insensitively, in the order given) and
// checks every field.
func (f RecoveryForm) normalize() (normalized, error) {
	errs := FieldErrors{}
	n := normalized{RecoveryForm: f}
	n.Username = strings.TrimSpace(f.Username)
	switch {
	case n.Username == "":
		errs["username"] = "Enter the username of the account you want to recover."
	case utf8.RuneCountInString(n.Username) > maxUsernameLen || !namePattern.MatchString(n.Username):
		errs["username"] = "A username has at most 50 letters, digits, dots, dashes or underscores. Check it for typing mistakes."
	}
	n.ContactEmail = strings.TrimSpace(f.ContactEmail)
	if msg := checkContactEmail(n.ContactEmail); msg != "" {
		errs["contact_email"] = msg
	}
	n.Name = strings.TrimSpace(f.Name)
	switch {
	case utf8.RuneCountInString(n.Name) > maxNameLen:
		errs["name"] = fmt.Sprintf("Use at most %d characters.", maxNameLen)
	case strings.IndexFunc(n.Name, unicode.IsControl) >= 0:
		errs["name"] = "Use a name on one line."
	case strings.IndexFunc(n.Name, isBidiControl) >= 0:
		errs["name"] = "Remove the invisible direction characters from the name."
	}
	n.Explanation = strings.TrimSpace(strings.ReplaceAll(f.Explanation, "\r\n", "\n"))
	switch l := utf8.RuneCountInString(n.Explanation); {
	case l == 0:
		errs["explanation"] = "Tell us what happened: how you lost access, and anything that shows the account is yours."
	case l < MinExplanation:
		errs["explanation"] = fmt.Sprintf("Write at least %d characters: how you lost access, and anything that shows the account is yours.", MinExplanation)
	case l > MaxExplanation:
		errs["explanation"] = fmt.Sprintf("Shorten this to at most %d characters (it has %d). You can add more on your case's page afterwards.", MaxExplanation, l)
	}
	var msg string
	if n.Projects, msg = splitClaims(f.ClaimedProjects, "project"); msg != "" {
		errs["claimed_projects"] = msg
	}
	if n.Organizations, msg = splitClaims(f.ClaimedOrganizations, "organization"); msg != "" {
		errs["claimed_organizations"] = msg
	}
	if n.AccountCreated, msg = checkMonth(f.AccountCreated, "the account was made"); msg != "" {
		errs["account_created"] = msg
	}
	if n.LastUpload, msg = checkMonth(f.LastUpload, "your last upload was"); msg != "" {
		errs["last_upload"] = msg
	}
	if n.PreviousEmailList, msg = splitAddresses(f.PreviousEmails); msg != "" {
		errs["previous_emails"] = msg
	}
	n.TwoFactorMethod = strings.TrimSpace(f.TwoFactorMethod)
	if _, ok := methodWords[n.TwoFactorMethod]; n.TwoFactorMethod != "" && !ok {
		errs["two_factor_method"] = "Choose one of the listed methods, or leave it at \"I don't know\"."
	}
	if len(errs) > 0 {
		return normalized{}, errs
	}
	return n, nil
}

// normalized is a checked form with its lists split.
type normalized struct {
	RecoveryForm
	Projects, Organizations []string
	PreviousEmailList       []string
}

// checkMonth accepts an empty answer or a month (YYYY-MM) from 1995 up to
// next year; what says what the month is of.
func checkMonth(s, what string) (string, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ""
	}
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return "", fmt.Sprintf("Give the month %s as year and month, like 2019-03, or leave it empty.", what)
	}
	if t.Year() < 1995 || t.After(time.Now().AddDate(1, 0, 0)) {
		return "", fmt.Sprintf("Give a month between 1995 and now for when %s, or leave it empty.", what)
	}
	return t.Format("2006-01"), ""
}

// splitAddresses splits a list of email addresses typed with commas,
// spaces or line breaks, dropping repeats.
func splitAddresses(s string) ([]string, string) {
	var out []string
	seen := map[string]bool{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) }) {
		if msg := checkContactEmail(part); msg != "" {
			return nil, fmt.Sprintf("%q is not an email address. Separate addresses with commas.", truncateRunes(part, 60))
		}
		if k := CanonicalEmail(part); !seen[k] {
			seen[k] = true
			out = append(out, part)
		}
	}
	if len(out) > MaxPreviousEmails {
		return nil, fmt.Sprintf("List at most %d addresses.", MaxPreviousEmails)
	}
	return out, ""
}

func checkContactEmail(s string) string {
	if s == "" {
		return "Enter an email address where we can reach you."
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > maxEmailLen || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "Enter an email address like name@example.com."
	}
	return ""
}

// splitClaims splits a list typed with commas or line breaks.
func splitClaims(s, what string) ([]string, string) {
	var out []string
	seen := map[string]bool{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		name := strings.TrimSpace(part)
		if name == "" || seen[strings.ToLower(name)] {
			continue
		}
		if len(name) > maxClaimLen || !namePattern.MatchString(name) {
			return nil, fmt.Sprintf("%q is not a %s name: names have letters, digits, dots, dashes or underscores. Separate names with commas.", truncateRunes(name, 40), what)
		}
		seen[strings.ToLower(name)] = true
		out = append(out, name)
	}
	if len(out) > MaxClaims {
		return nil, fmt.Sprintf("List at most %d; the ones you use most are enough.", MaxClaims)
	}
	return out, ""
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
