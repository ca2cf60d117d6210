package desk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/caseparticipant"
	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/internal/ratelimit"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

const testBase = "https://desk.test"

// fixture is an Intake on the package database and its signer.
type fixture struct {
	in     *desk.Intake
	signer *mailbox.MessageIDSigner
}

func newIntake(t *testing.T) fixture {
	t.Helper()
	st := testdb.Store(t)
	ob, err := mailbox.NewOutbox(mailbox.OutboxConfig{Client: st.Ent, From: mail.Address{Name: "Desk", Address: "support@desk.test"}})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := mailbox.NewMessageIDSigner(bytes.Repeat([]byte("s"), 32), "desk.test")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(testBase)
	return fixture{
		in:     desk.NewIntake(st, ob, signer, ratelimit.New(st.Pool, nil), "Recovery Desk Test", base, nil),
		signer: signer,
	}
}

var seq atomic.Int64

// unique returns a name no other test uses.
func unique(prefix string) string {
	return fmt.Sprintf("%s%d_%d", prefix, time.Now().UnixNano()%1e9, seq.Add(1))
}

// validForm is a correct submission with its own address and IP.
func validForm() (desk.RecoveryForm, desk.Origin) {
	name := unique("user")
	return desk.RecoveryForm{
			Username:        name,
			ContactEmail:    name + "@example.com",
			Name:            "Ada Lovelace",
			HasPassword:     true,
			HasDevice:       false,
			Explanation:     "I lost my phone with the authenticator app and have no recovery codes.",
			ClaimedProjects: "analytical-engine, notes\nbernoulli",
		}, desk.Origin{
			IP: fmt.Sprintf("192.0.%d.%d", seq.Load()/256%256, seq.Load()%256), UserAgent: "test",
		}
}

func TestSubmitCreatesCase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newIntake(t)
	client := testdb.Store(t).Ent
	acct, err := client.User.Create().SetUsername(unique("Owner")).SetUsernameNormalized("x").Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	acct = client.User.UpdateOne(acct).SetUsernameNormalized(strings.ToLower(acct.Username)).SaveX(ctx)

	f, at := validForm()
	f.Username = "  " + acct.Username + " "
	got, err := fx.in.Submit(ctx, f, at)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := desk.NormalizeReference(got.Reference); !ok {
		t.Fatalf("reference %q is not canonical", got.Reference)
	}
	if !strings.HasPrefix(got.StatusURL, testBase+"/case/"+got.Reference+"?token=") {
		t.Fatalf("status URL %q", got.StatusURL)
	}
	token := got.StatusURL[strings.Index(got.StatusURL, "token=")+len("token="):]
	if len(token) < 43 {
		t.Fatalf("token %q is shorter than 256 bits", token)
	}

	c, err := client.SupportCase.Query().Where(supportcase.Reference(got.Reference)).Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != supportcase.KindRecovery || c.Status != supportcase.StatusNew {
		t.Errorf("kind %s status %s", c.Kind, c.Status)
	}
	if c.AccountID == nil || *c.AccountID != acct.ID {
		t.Errorf("account %v, want %d", c.AccountID, acct.ID)
	}
	if c.ClaimedUsername == nil || *c.ClaimedUsername != acct.Username {
		t.Errorf("claimed username %v", c.ClaimedUsername)
	}
	if got := strings.Join(c.Intake.ClaimedProjects, "|"); got != "analytical-engine|notes|bernoulli" {
		t.Errorf("claimed projects %q", got)
	}
	if !c.Intake.HasPassword || c.Intake.HasDevice || c.Intake.Explanation != f.Explanation {
		t.Errorf("intake %+v", c.Intake)
	}
	if bytes.Contains(c.StatusTokenHash, []byte(token)) {
		t.Error("the token is stored in clear")
	}

	parts := client.CaseParticipant.Query().Where(caseparticipant.CaseID(c.ID)).AllX(ctx)
	if len(parts) != 1 || parts[0].Role != caseparticipant.RoleRequester || parts[0].EmailNormalized != strings.ToLower(f.ContactEmail) {
		t.Errorf("participants %+v", parts)
	}
	msgs := client.Message.Query().Where(message.CaseID(c.ID)).AllX(ctx)
	if len(msgs) != 1 || msgs[0].Direction != message.DirectionInbound || msgs[0].Visibility != message.VisibilityPublic ||
		msgs[0].Channel != message.ChannelWeb || msgs[0].BodyText != f.Explanation {
		t.Errorf("messages %+v", msgs)
	}

	ack := client.OutboundMail.Query().Where(outboundmail.CaseID(c.ID)).OnlyX(ctx)
	if ack.Subject != "["+got.Reference+"] We received your account recovery request" {
		t.Errorf("subject %q", ack.Subject)
	}
	if ack.ToAddress != f.ContactEmail || ack.Status != outboundmail.StatusQueued || ack.Purpose != desk.MailRecoveryAcknowledgement {
		t.Errorf("mail to %s status %s purpose %s", ack.ToAddress, ack.Status, ack.Purpose)
	}
	if ack.Headers["Auto-Submitted"] != "auto-replied" {
		t.Errorf("Auto-Submitted %q", ack.Headers["Auto-Submitted"])
	}
	if ref, ok := fx.signer.Verify(ack.MessageIDHeader); !ok || ref != got.Reference {
		t.Errorf("Message-ID %q verifies as %q, %v", ack.MessageIDHeader, ref, ok)
	}
	if !strings.HasPrefix(ack.BodyText, mailbox.ReplyAboveMarker+"\n") {
		t.Errorf("body does not start with the reply marker:\n%s", ack.BodyText)
	}
	if ref, ok := fx.signer.FindMarker(ack.BodyText); !ok || ref != got.Reference {
		t.Errorf("body marker gives %q, %v", ref, ok)
	}
	for _, want := range []string{got.Reference, got.StatusURL, "What happens next"} {
		if !strings.Contains(ack.BodyText, want) {
			t.Errorf("body lacks %q:\n%s", want, ack.BodyText)
		}
	}
}

func TestSubmitFieldErrors(t *testing.T) {
	t.Parallel()
	fx := newIntake(t)
	tests := []struct {
		name  string
		edit  func(*desk.RecoveryForm)
		field string
	}{
		{"no username", func(f *desk.RecoveryForm) { f.Username = " " }, "username"},
		{"bad username", func(f *desk.RecoveryForm) { f.Username = "a b" }, "username"},
		{"no email", func(f *desk.RecoveryForm) { f.ContactEmail = "" }, "contact_email"},
		{"bad email", func(f *desk.RecoveryForm) { f.ContactEmail = "ada at example" }, "contact_email"},
		{"named email", func(f *desk.RecoveryForm) { f.ContactEmail = "Ada <ada@example.com>" }, "contact_email"},
		{"long name", func(f *desk.RecoveryForm) { f.Name = strings.Repeat("n", 101) }, "name"},
		{"name with a direction override", func(f *desk.RecoveryForm) { f.Name = "PyPI \u202Egro.ipyp@ytiruces" }, "name"},
		{"no explanation", func(f *desk.RecoveryForm) { f.Explanation = "  " }, "explanation"},
		{"short explanation", func(f *desk.RecoveryForm) { f.Explanation = "lost my phone" }, "explanation"},
		{"long explanation", func(f *desk.RecoveryForm) { f.Explanation = strings.Repeat("x", 10001) }, "explanation"},
		{"bad project", func(f *desk.RecoveryForm) { f.ClaimedProjects = "good, bad name" }, "claimed_projects"},
		{"too many orgs", func(f *desk.RecoveryForm) {
			for i := range 21 {
				f.ClaimedOrganizations += fmt.Sprintf("org%d,", i)
			}
		}, "claimed_organizations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, at := validForm()
			tt.edit(&f)
			_, err := fx.in.Submit(context.Background(), f, at)
			var fe desk.FieldErrors
			if !errors.As(err, &fe) {
				t.Fatalf("error %v, want FieldErrors", err)
			}
			if fe[tt.field] == "" || len(fe) != 1 {
				t.Errorf("errors %v, want one on %s", fe, tt.field)
			}
		})
	}
	t.Run("boundaries pass", func(t *testing.T) {
		f, at := validForm()
		f.Explanation = strings.Repeat("é", 20)
		f.ClaimedOrganizations = "a,b,c"
		if _, err := fx.in.Submit(context.Background(), f, at); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSubmitHoneypotCreatesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newIntake(t)
	f, at := validForm()
	f.Honeypot = "http://spam.example"
	if _, err := fx.in.Submit(ctx, f, at); !errors.Is(err, desk.ErrSpam) {
		t.Fatalf("error %v, want ErrSpam", err)
	}
	client := testdb.Store(t).Ent
	if n := client.SupportCase.Query().Where(supportcase.RequesterEmailNormalized(f.ContactEmail)).CountX(ctx); n != 0 {
		t.Errorf("%d cases created", n)
	}
	if n := client.OutboundMail.Query().Where(outboundmail.ToAddress(f.ContactEmail)).CountX(ctx); n != 0 {
		t.Errorf("%d mails queued", n)
	}
}

func TestSubmitRateLimitPerAddress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newIntake(t)
	f, _ := validForm()
	for i := range ratelimit.RecoveryPerAddress.Limit {
		// A fresh IP each time, so only the address limit applies.
		at := desk.Origin{IP: fmt.Sprintf("198.51.%d.%d", seq.Add(1)%256, i)}
		if _, err := fx.in.Submit(ctx, f, at); err != nil {
			t.Fatalf("submission %d: %v", i+1, err)
		}
	}
	f.ContactEmail = strings.ToUpper(f.ContactEmail) // the same address
	_, err := fx.in.Submit(ctx, f, desk.Origin{IP: "203.0.113.250"})
	var limited *desk.RateLimitedError
	if !errors.As(err, &limited) || limited.RetryAfter <= 0 || limited.Message() == "" {
		t.Fatalf("error %v, want RateLimitedError", err)
	}
}
