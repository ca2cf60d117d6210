package desk

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Providers that deliver name+tag@ to name@ (plus-tags), and those that
// also ignore dots in the local part. Only these are folded: for any other
// domain a dot or a plus may tell two people apart.
var (
	plusTagDomains = map[string]bool{
		"gmail.com": true, "googlemail.com": true,
		"outlook.com": true, "hotmail.com": true, "live.com": true,
		"icloud.com": true, "me.com": true,
		"fastmail.com": true, "fastmail.fm": true,
		"proton.me": true, "protonmail.com": true, "pm.me": true,
	}
	dotlessDomains = map[string]bool{"gmail.com": true, "googlemail.com": true}
	// domainAliases maps a domain to the one it is another name for.
	domainAliases = map[string]string{"googlemail.com": "gmail.com"}
)

// CanonicalEmail folds an address to the mailbox it reaches: Unicode
// NFKC, lower case, and for providers known to ignore them, without
// plus-tags and dots. Two addresses with the same canonical form reach
// the same person.
func CanonicalEmail(address string) string {
	a := strings.ToLower(norm.NFKC.String(strings.TrimSpace(address)))
	at := strings.LastIndexByte(a, '@')
	if at <= 0 {
		return a
	}
	local, domain := a[:at], a[at+1:]
	if plusTagDomains[domain] {
		if i := strings.IndexByte(local, '+'); i > 0 {
			local = local[:i]
		}
	}
	if dotlessDomains[domain] {
		local = strings.ReplaceAll(local, ".", "")
	}
	if alias, ok := domainAliases[domain]; ok {
		domain = alias
	}
	return local + "@" + domain
}

// canonicalUsername folds a username as the account match compares it.
func canonicalUsername(s string) string {
	return strings.ToLower(norm.NFKC.String(strings.TrimSpace(s)))
}
