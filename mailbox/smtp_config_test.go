package mailbox_test

import (
	"strings"
	"testing"

	"github.com/recoverydesk/recoverydesk/mailbox"
)

func TestParseSMTPURL(t *testing.T) {
	tests := []struct {
		raw     string
		want    mailbox.SMTPConfig
		wantErr string
	}{
		{raw: "smtp://127.0.0.1:2525", want: mailbox.SMTPConfig{Host: "127.0.0.1", Port: 2525, Security: mailbox.SecurityOpportunistic}},
		{raw: "smtp://relay.example.org", want: mailbox.SMTPConfig{Host: "relay.example.org", Port: 25}},
		{raw: "smtp+starttls://u%40x:p%3Ass@mail.example.org", want: mailbox.SMTPConfig{Host: "mail.example.org", Port: 587, Security: mailbox.SecurityStartTLS, Username: "u@x", Password: "p:ss"}},
		{raw: "smtps://user:secret@mail.example.org/", want: mailbox.SMTPConfig{Host: "mail.example.org", Port: 465, Security: mailbox.SecurityImplicitTLS, Username: "user", Password: "secret"}},
		{raw: "smtps://[::1]:1465", want: mailbox.SMTPConfig{Host: "::1", Port: 1465, Security: mailbox.SecurityImplicitTLS}},

		{raw: "", wantErr: "empty"},
		{raw: "imap://mail.example.org", wantErr: `scheme "imap"`},
		{raw: "mail.example.org:25", wantErr: `scheme "mail.example.org"`},
		{raw: "smtp://", wantErr: "missing host"},
		{raw: "smtp:mail.example.org", wantErr: "missing host"},
		{raw: "smtp://mail.example.org:0", wantErr: `port "0"`},
		{raw: "smtp://mail.example.org:70000", wantErr: `port "70000"`},
		{raw: "smtp://mail.example.org:x25", wantErr: "port"},
		{raw: "smtp://mail.example.org/INBOX", wantErr: `path "/INBOX"`},
		{raw: "smtp://mail.example.org?starttls=off", wantErr: "query parameters"},
		{raw: "smtp://mail.example.org#x", wantErr: "fragment"},
		{raw: "smtp://user@mail.example.org", wantErr: `user "user" has no password`},
		{raw: "smtp://:pw@mail.example.org", wantErr: "without a user name"},
		{raw: "smtp://user:secret@mail.example.org:bad%", wantErr: "SMTP URL"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := mailbox.ParseSMTPURL(tt.raw)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSMTPConfigStringRedacts(t *testing.T) {
	cfg, err := mailbox.ParseSMTPURL("smtps://user:secret@mail.example.org")
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.String()
	if strings.Contains(s, "secret") || !strings.Contains(s, "smtps://user:") || !strings.Contains(s, "mail.example.org:465") {
		t.Errorf("String() = %q", s)
	}
	if cfg.Addr() != "mail.example.org:465" {
		t.Errorf("Addr() = %q", cfg.Addr())
	}
}
