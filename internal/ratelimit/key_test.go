package ratelimit

import (
	"strings"
	"testing"
	"time"
)

func TestKey(t *testing.T) {
	tests := []struct {
		parts []string
		want  string
	}{
		{[]string{"login", "user", "42"}, "login:user:42"},
		{[]string{"Recovery", "Address", "Alice@Example.ORG"}, "recovery:address:alice@example.org"},
		{[]string{"login", "ip", "2001:db8::1"}, "login:ip:2001%3adb8%3a%3a1"},
		{[]string{"a%3ab"}, "a%253ab"},
		{[]string{"a:b"}, "a%3ab"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := Key(tt.parts...); got != tt.want {
			t.Errorf("Key(%q) = %q, want %q", tt.parts, got, tt.want)
		}
	}
	// Injective: a separator inside a part cannot forge other parts.
	distinct := [][]string{{"a:b"}, {"a", "b"}, {"a%3ab"}, {"a", "", "b"}, {"a:", "b"}, {"a", ":b"}}
	seen := map[string][]string{}
	for _, parts := range distinct {
		k := Key(parts...)
		if prev, ok := seen[k]; ok {
			t.Errorf("Key(%q) = Key(%q) = %q", parts, prev, k)
		}
		seen[k] = parts
	}
}

func TestStoredKey(t *testing.T) {
	if got := storedKey("login-user", "login:user:42"); got != "login-user|login:user:42" {
		t.Errorf("storedKey = %q", got)
	}
	long := strings.Repeat("x", maxKeyBytes+1)
	got := storedKey("r", long)
	if len(got) > 100 || !strings.HasPrefix(got, "r#") {
		t.Errorf("storedKey of a long key = %q, want r# and a short hash", got)
	}
	if got == storedKey("r", long+"y") {
		t.Error("two long keys stored alike")
	}
	// A short key shaped like a hash does not meet the hashed long key.
	if storedKey("r", got[2:]) == got {
		t.Error("short key collides with a hashed one")
	}
}

func TestPredefinedRules(t *testing.T) {
	// The figures of DESIGN.md; a change here is a change of policy.
	tests := []struct {
		rule   Rule
		limit  int
		window time.Duration
	}{
		{LoginPerUser, 10, 5 * time.Minute},
		{LoginPerIP, 10, 5 * time.Minute},
		{SecondFactor5m, 5, 5 * time.Minute},
		{SecondFactorHour, 20, time.Hour},
		{PasswordReset, 5, 24 * time.Hour},
		{RecoveryPerIP, 5, time.Hour},
		{RecoveryPerAddress, 5, time.Hour},
		{VerificationResend, 5, time.Hour},
	}
	names := map[string]bool{}
	for _, tt := range tests {
		if err := tt.rule.validate(); err != nil {
			t.Error(err)
		}
		if tt.rule.Limit != tt.limit || tt.rule.Window != tt.window {
			t.Errorf("%s = %d per %v, want %d per %v", tt.rule.Name, tt.rule.Limit, tt.rule.Window, tt.limit, tt.window)
		}
		if names[tt.rule.Name] {
			t.Errorf("rule name %s used twice", tt.rule.Name)
		}
		names[tt.rule.Name] = true
		if Retention < 2*tt.rule.Window {
			t.Errorf("Retention %v is shorter than twice %s's window", Retention, tt.rule.Name)
		}
	}
}

func TestRuleValidate(t *testing.T) {
	bad := []Rule{
		{Name: "", Limit: 1, Window: time.Minute},
		{Name: "a|b", Limit: 1, Window: time.Minute},
		{Name: "a#b", Limit: 1, Window: time.Minute},
		{Name: "a", Limit: 0, Window: time.Minute},
		{Name: "a", Limit: 1, Window: 0},
		{Name: "a", Limit: 1, Window: 1500 * time.Millisecond},
	}
	for _, r := range bad {
		if err := r.validate(); err == nil {
			t.Errorf("%+v accepted", r)
		}
	}
}
