package ratelimit

import (
	"fmt"
	"strings"
	"time"
)

// Rule is one limit: at most Limit attempts per Window for a key.
type Rule struct {
	// Name identifies the rule; counters are stored per (Name, key), so the
	// same key may be limited by several rules. It must not contain "|" or
	// "#".
	Name string
	// Limit is how many attempts a window allows (at least 1).
	Limit int
	// Window is the length of a window, in whole seconds.
	Window time.Duration
}

// The rules of DESIGN.md ("at least as strict as the registry's"). Keys are
// the caller's; the comments say what each rule is meant to be keyed by.
var (
	// LoginPerUser limits password attempts per account
	// (Key("login", "user", id)): 10 per 5 minutes.
	LoginPerUser = Rule{Name: "login-user", Limit: 10, Window: 5 * time.Minute}
	// LoginPerIP limits password attempts per client address
	// (Key("login", "ip", ip)): 10 per 5 minutes.
	LoginPerIP = Rule{Name: "login-ip", Limit: 10, Window: 5 * time.Minute}
	// SecondFactor5m limits second-factor attempts per account: 5 per 5
	// minutes. Use it together with SecondFactorHour on the same key.
	SecondFactor5m = Rule{Name: "2fa-5m", Limit: 5, Window: 5 * time.Minute}
	// SecondFactorHour limits second-factor attempts per account: 20 per
	// hour.
	SecondFactorHour = Rule{Name: "2fa-1h", Limit: 20, Window: time.Hour}
	// PasswordReset limits password-reset requests per account or address:
	// 5 per day.
	PasswordReset = Rule{Name: "password-reset", Limit: 5, Window: 24 * time.Hour}
	// RecoveryPerIP limits recovery-form submissions per client address: 5
	// per hour.
	RecoveryPerIP = Rule{Name: "recovery-ip", Limit: 5, Window: time.Hour}
	// RecoveryPerAddress limits recovery-form submissions per email
	// address: 5 per hour.
	RecoveryPerAddress = Rule{Name: "recovery-address", Limit: 5, Window: time.Hour}
	// VerificationResend limits re-sending a verification email per
	// account: 5 per hour (ours; the design names no figure), so the form
	// cannot be used to flood an inbox.
	VerificationResend = Rule{Name: "verification-resend", Limit: 5, Window: time.Hour}
)

// Retention is how long Prune must keep counters for the rules above: a
// window's counter is read until the end of the window after it, so twice
// the longest window (PasswordReset's day).
const Retention = 48 * time.Hour

func (r Rule) validate() error {
	switch {
	case r.Name == "" || strings.ContainsAny(r.Name, "|#"):
		return fmt.Errorf("ratelimit: rule name %q must be non-empty, without '|' or '#'", r.Name)
	case r.Limit < 1:
		return fmt.Errorf("ratelimit: rule %s: limit %d must be at least 1", r.Name, r.Limit)
	case r.Window < time.Second || r.Window%time.Second != 0:
		return fmt.Errorf("ratelimit: rule %s: window %v must be whole seconds", r.Name, r.Window)
	}
	return nil
}
