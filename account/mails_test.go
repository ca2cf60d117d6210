package account_test

import (
	"context"
	"errors"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/account/mailtemplates"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

const mailTestSite = "Test Desk"

// hostileUsername must come out escaped in HTML.
const hostileUsername = `<script>alert("x")</script>`

func newTestMailer(t *testing.T, st *store.Store) *account.Mailer {
	t.Helper()
	ob, err := mailbox.NewOutbox(mailbox.OutboxConfig{Client: st.Ent, From: mail.Address{Name: mailTestSite, Address: "support@desk.test"}})
	if err != nil {
		t.Fatal(err)
	}
	base, err := url.Parse("https://desk.example/rd/")
	if err != nil {
		t.Fatal(err)
	}
	return account.NewMailer(ob, mailTestSite, base)
}

// mailOf returns the one mail of purpose queued for userID.
func mailOf(t *testing.T, st *store.Store, userID int, purpose string) *ent.OutboundMail {
	t.Helper()
	row, err := st.Ent.OutboundMail.Query().Where(outboundmail.UserID(userID), outboundmail.Purpose(purpose)).Only(context.Background())
	if err != nil {
		t.Fatalf("%s mail of user %d: %v", purpose, userID, err)
	}
	return row
}

func countSendJobs(t *testing.T, st *store.Store, mailID int) int {
	t.Helper()
	var n int
	err := st.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM river_job WHERE kind = 'mailbox.send' AND args->>'outbound_mail_id' = $1`,
		strconv.Itoa(mailID)).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMailSecurityEmails(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	m := newTestMailer(t, st)
	to := mail.Address{Name: "Ada", Address: "ada@example.org"}
	origin := account.MailOrigin{
		At:        time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600)),
		IP:        "198.51.100.23",
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
	}
	originFacts := []string{"4 March 2026 at 04:06 UTC", "198.51.100.23", "Firefox 128 on Linux"}
	const token = "dG9rZW4tZm9yLXRlc3RzLW9ubHktMDEyMzQ1Njc4OWFi"

	cases := []struct {
		purpose string
		subject string
		facts   []string // in both the text and the HTML
		send    func(ctx context.Context, tx *store.Tx, userID int) error
	}{
		{
			purpose: account.MailEmailVerification,
			subject: "Verify your email address for Test Desk",
			facts:   []string{"https://desk.example/rd/verify-email?token=" + token, "6 hours", "ada@example.org"},
			send: func(ctx context.Context, tx *store.Tx, id int) error {
				return m.SendEmailVerification(ctx, tx, to, account.EmailVerificationMail{UserID: id, Username: hostileUsername, Token: token})
			},
		},
		{
			purpose: account.MailPasswordReset,
			subject: "Reset your Test Desk password",
			facts:   []string{"https://desk.example/rd/password-reset?token=" + token, "1 hour", "your password has not changed"},
			send: func(ctx context.Context, tx *store.Tx, id int) error {
				return m.SendPasswordReset(ctx, tx, to, account.PasswordResetMail{UserID: id, Username: hostileUsername, Token: token})
			},
		},
		{
			purpose: account.MailPasswordChanged,
			subject: "Your Test Desk password was changed",
			facts:   append([]string{"https://desk.example/rd/password-reset", "https://desk.example/rd/recover"}, originFacts...),
			send: func(ctx context.Context, tx *store.Tx, id int) error {
				return m.SendPasswordChanged(ctx, tx, to, account.PasswordChangedMail{UserID: id, Username: hostileUsername, Origin: origin})
			},
		},
		{
			purpose: account.MailSecondFactorAdded,
			subject: "Two-factor method added to your Test Desk account",
			facts:   append([]string{"An authenticator app (TOTP)", "https://desk.example/rd/account/password"}, originFacts...),
			send: func(ctx context.Context, tx *store.Tx, id int) error {
				return m.SendSecondFactorAdded(ctx, tx, to, account.SecondFactorMail{UserID: id, Username: hostileUsername, Method: "totp", Origin: origin})
			},
		},
		{
			purpose: account.MailSecondFactorRemoved,
			subject: "Two-factor method removed from your Test Desk account",
			facts:   append([]string{"The security key", "Blue key", "https://desk.example/rd/account/security"}, originFacts...),
			send: func(ctx context.Context, tx *store.Tx, id int) error {
				return m.SendSecondFactorRemoved(ctx, tx, to, account.SecondFactorMail{UserID: id, Username: hostileUsername, Method: "webauthn", Name: "Blue key", Origin: origin})
			},
		},
		{
			purpose: account.MailRecoveryCodesGenerated,
			subject: "New recovery codes for your Test Desk account",
			facts:   append([]string{"previous recovery codes no longer work"}, originFacts...),
			send: func(ctx context.Context, tx *store.Tx, id int) error {
				return m.SendRecoveryCodesGenerated(ctx, tx, to, account.RecoveryCodesMail{UserID: id, Username: hostileUsername, Origin: origin})
			},
		},
		{
			purpose: account.MailRecoveryCodeUsed,
			subject: "A recovery code was used to sign in to your Test Desk account",
			facts:   append([]string{"You have 5 recovery codes left"}, originFacts...),
			send: func(ctx context.Context, tx *store.Tx, id int) error {
				return m.SendRecoveryCodeUsed(ctx, tx, to, account.RecoveryCodeUsedMail{UserID: id, Username: hostileUsername, Remaining: 5, Origin: origin})
			},
		},
		{
			purpose: account.MailUnrecognizedLogin,
			subject: "Unrecognized login to your " + mailTestSite + " account",
			facts: append([]string{
				"https://desk.example/rd/login/confirm?token=" + token, "expires in 1 hour",
				"change your password", "https://desk.example/rd/account/password", "same browser",
			}, originFacts...),
			send: func(ctx context.Context, tx *store.Tx, id int) error {
				return m.SendUnrecognizedLogin(ctx, tx, to, account.UnrecognizedLoginMail{UserID: id, Username: hostileUsername, Token: token, Origin: origin})
			},
		},
		{
			purpose: account.MailEmailAdded,
			subject: "New email address added to your Test Desk account",
			facts:   append([]string{"new-address@example.net"}, originFacts...),
			send: func(ctx context.Context, tx *store.Tx, id int) error {
				return m.SendEmailAdded(ctx, tx, to, account.EmailAddedMail{UserID: id, Username: hostileUsername, Address: "new-address@example.net", Origin: origin})
			},
		},
		{
			purpose: account.MailPrimaryEmailChanged,
			subject: "The primary email address of your Test Desk account was changed",
			facts:   append([]string{"new-primary@example.net", "https://desk.example/rd/account/security", "https://desk.example/rd/recover"}, originFacts...),
			send: func(ctx context.Context, tx *store.Tx, id int) error {
				return m.SendPrimaryEmailChanged(ctx, tx, to, account.PrimaryEmailChangedMail{UserID: id, Username: hostileUsername, Address: "new-primary@example.net", Origin: origin})
			},
		},
		{
			purpose: account.MailAPITokenCreated,
			subject: "New API token for your Test Desk account",
			facts:   append([]string{"Deploy bot", "rdt_abcd2345", "Only the project", "tiny-lib", "1 June 2026 at 12:00 UTC", "https://desk.example/rd/account/tokens"}, originFacts...),
			send: func(ctx context.Context, tx *store.Tx, id int) error {
				tok := account.APITokenInfo{Name: "Deploy bot", Prefix: "rdt_abcd2345", Project: "tiny-lib", Expires: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
				return m.SendAPITokenCreated(ctx, tx, to, account.APITokenMail{UserID: id, Username: hostileUsername, Token: tok, Origin: origin})
			},
		},
		{
			purpose: account.MailAPITokenRevoked,
			subject: "API token revoked on your Test Desk account",
			facts:   append([]string{"Deploy bot", "rdt_abcd2345", "Every project of your account", "Never (until revoked)", "refused from now on", "https://desk.example/rd/account/tokens"}, originFacts...),
			send: func(ctx context.Context, tx *store.Tx, id int) error {
				tok := account.APITokenInfo{Name: "Deploy bot", Prefix: "rdt_abcd2345"}
				return m.SendAPITokenRevoked(ctx, tx, to, account.APITokenMail{UserID: id, Username: hostileUsername, Token: tok, Origin: origin})
			},
		},
	}

	set, err := mailtemplates.Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	templates := set.Names()
	slices.Sort(templates)
	var tested []string
	for _, tc := range cases {
		tested = append(tested, tc.purpose)
	}
	slices.Sort(tested)
	if !slices.Equal(templates, tested) {
		t.Errorf("templates %v, tested mails %v: every template needs a case", templates, tested)
	}

	for _, tc := range cases {
		t.Run(tc.purpose, func(t *testing.T) {
			t.Parallel()
			u := makeUser(t, st.Ent)
			err := st.InTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
				return tc.send(ctx, tx, u.ID)
			})
			if err != nil {
				t.Fatal(err)
			}
			row := mailOf(t, st, u.ID, tc.purpose)
			if row.Subject != tc.subject {
				t.Errorf("subject %q, want %q", row.Subject, tc.subject)
			}
			if row.ToAddress != to.Address || row.Status != outboundmail.StatusQueued {
				t.Errorf("to %q status %s, want %s queued", row.ToAddress, row.Status, to.Address)
			}
			if row.BodyHTML == nil {
				t.Fatal("no HTML part")
			}
			text, html := row.BodyText, *row.BodyHTML
			for _, want := range append([]string{"Hello " + hostileUsername + ",", mailTestSite, "https://desk.example/rd"}, tc.facts...) {
				if !strings.Contains(text, want) {
					t.Errorf("text lacks %q:\n%s", want, text)
				}
			}
			for _, want := range append([]string{"Hello &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;,", mailTestSite}, tc.facts...) {
				if !strings.Contains(html, want) {
					t.Errorf("HTML lacks %q:\n%s", want, html)
				}
			}
			if strings.Contains(html, "<script") {
				t.Error("HTML contains the username unescaped")
			}
			for _, bad := range []string{"<no value>", "ZgotmplZ", "{{"} {
				if strings.Contains(text+html, bad) {
					t.Errorf("rendered mail contains %q", bad)
				}
			}
			if n := countSendJobs(t, st, row.ID); n != 1 {
				t.Errorf("%d send jobs for the mail, want 1", n)
			}
		})
	}
}

func TestMailRolledBackWithTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.Store(t)
	m := newTestMailer(t, st)
	u := makeUser(t, st.Ent)
	boom := errors.New("the password change failed")

	var mailID int
	err := st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		err := m.SendPasswordChanged(ctx, tx, mail.Address{Address: "ada@example.org"}, account.PasswordChangedMail{UserID: u.ID, Username: "ada"})
		if err != nil {
			return err
		}
		row, err := tx.Ent.OutboundMail.Query().Where(outboundmail.UserID(u.ID)).Only(ctx)
		if err != nil {
			return err
		}
		mailID = row.ID
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx: %v", err)
	}
	if n, err := st.Ent.OutboundMail.Query().Where(outboundmail.UserID(u.ID)).Count(ctx); err != nil || n != 0 {
		t.Errorf("%d mails after rollback (%v), want none", n, err)
	}
	if n := countSendJobs(t, st, mailID); n != 0 {
		t.Errorf("%d send jobs after rollback, want none", n)
	}
}

func TestMailRecoveryCodesRunningOut(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	m := newTestMailer(t, st)
	for remaining, want := range map[int]string{0: "no recovery codes left", 1: "1 recovery code left"} {
		u := makeUser(t, st.Ent)
		err := st.InTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
			return m.SendRecoveryCodeUsed(ctx, tx, mail.Address{Address: "ada@example.org"}, account.RecoveryCodeUsedMail{UserID: u.ID, Username: "ada", Remaining: remaining})
		})
		if err != nil {
			t.Fatal(err)
		}
		row := mailOf(t, st, u.ID, account.MailRecoveryCodeUsed)
		if !strings.Contains(row.BodyText, want) || !strings.Contains(*row.BodyHTML, want) || !strings.Contains(row.BodyText, "/account/security") {
			t.Errorf("%d left: mail lacks %q or the link to generate more:\n%s", remaining, want, row.BodyText)
		}
	}
}

func TestMailRefusesBadRecipient(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	m := newTestMailer(t, st)
	u := makeUser(t, st.Ent)
	err := st.InTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		return m.SendPasswordChanged(ctx, tx, mail.Address{Address: "not an address"}, account.PasswordChangedMail{UserID: u.ID, Username: "ada"})
	})
	if !errors.Is(err, mailbox.ErrInvalidMail) {
		t.Errorf("bad recipient: %v, want ErrInvalidMail", err)
	}
}
