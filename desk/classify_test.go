package desk_test

import (
	"testing"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
)

func TestLooksLikeRecovery(t *testing.T) {
	tests := []struct {
		subject, body string
		want          bool
	}{
		// Recovery requests, as people write them.
		{"Lost my phone", "", true},
		{"Help", "My phone was stolen last week and now I can't log in.", true},
		{"Locked out of my account", "", true},
		{"", "I cannot sign in to my account since Friday.", true},
		{"cant login", "", true},
		{"Can\u2019t log-in anymore", "", true},
		{"Reset 2FA please", "", true},
		{"2FA", "I got a new phone and the authenticator app is gone.", true},
		{"Two-factor", "I lost my recovery codes.", true},
		{"Security key lost", "", true},
		{"YubiKey", "My yubikey broke, what now?", true},
		{"Account recovery for package foo", "", true},
		{"Re: access", "I no longer have access to my account; the TOTP\ncodes are not working.", true},
		{"", "Please disable MFA on my account, I do not have the device.", true},
		// General mail, including some that mention 2FA or trouble words.
		{"Question about package naming", "Can I rename my project?", false},
		{"Which authenticator apps do you support?", "", false},
		{"How do I set up two-factor authentication?", "", false},
		{"Please remove package foo", "It was a test upload.", false},
		{"Typosquatting report", "The package reqeusts copies requests.", false},
		{"Invoice", "Could you send an invoice for our sponsorship?", false},
		{"", "", false},
	}
	for _, tc := range tests {
		if got := desk.LooksLikeRecovery(tc.subject, tc.body); got != tc.want {
			t.Errorf("LooksLikeRecovery(%q, %q) = %v; want %v", tc.subject, tc.body, got, tc.want)
		}
	}
}

func TestCaseKind(t *testing.T) {
	if k := desk.CaseKind("Lost my phone", ""); k != supportcase.KindRecovery {
		t.Errorf("CaseKind(lost phone) = %q; want recovery", k)
	}
	if k := desk.CaseKind("Invoice", "Please send one."); k != supportcase.KindGeneral {
		t.Errorf("CaseKind(invoice) = %q; want general", k)
	}
}
