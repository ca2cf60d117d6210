package desk_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/caseevent"
	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// submitted files a valid form and returns the reference and token.
func submitted(t *testing.T, fx fixture) (ref, token string) {
	t.Helper()
	f, at := validForm()
	got, err := fx.in.Submit(context.Background(), f, at)
	if err != nil {
		t.Fatal(err)
	}
	_, token, _ = strings.Cut(got.StatusURL, "?token=")
	return got.Reference, token
}

func TestStatusNeedsTheRightLink(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newIntake(t)
	ref, token := submitted(t, fx)
	other, _ := submitted(t, fx)

	v, err := fx.in.Status(ctx, strings.ToLower(ref), token)
	if err != nil {
		t.Fatal(err)
	}
	if v.Reference != ref || v.Status != "Received" || v.Next == "" || v.Created.IsZero() {
		t.Errorf("view %+v", v)
	}
	if len(v.Messages) != 1 || !v.Messages[0].FromRequester || !strings.Contains(v.Messages[0].Body, "authenticator") {
		t.Errorf("messages %+v", v.Messages)
	}

	// The last character changed (to one it is not), so the token differs.
	last := "A"
	if strings.HasSuffix(token, last) {
		last = "B"
	}
	for name, link := range map[string][2]string{
		"wrong token":         {ref, token[:len(token)-1] + last},
		"empty token":         {ref, ""},
		"another case's link": {other, token},
		"unknown reference":   {"RD-222222", token},
		"malformed reference": {"nonsense", token},
	} {
		if _, err := fx.in.Status(ctx, link[0], link[1]); !errors.Is(err, desk.ErrNotFound) {
			t.Errorf("%s: error %v, want ErrNotFound", name, err)
		}
	}
}

func TestAddInformationIsPublicAndNotesStayHidden(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newIntake(t)
	client := testdb.Store(t).Ent
	ref, token := submitted(t, fx)
	c := client.SupportCase.Query().Where(supportcase.Reference(ref)).OnlyX(ctx)

	// An agent, assigned, with a primary address; an internal note and a
	// public reply on the case.
	agent := client.User.Create().SetUsername(unique("agent")).SetUsernameNormalized(unique("agent")).SaveX(ctx)
	agentAddr := unique("agent") + "@desk.test"
	client.EmailAddress.Create().SetUserID(agent.ID).SetAddress(agentAddr).SetAddressNormalized(agentAddr).SetPrimary(true).ExecX(ctx)
	client.SupportCase.UpdateOne(c).SetAssigneeID(agent.ID).ExecX(ctx)
	client.Message.Create().SetCaseID(c.ID).SetMessageIDHeader(unique("note") + "@desk.test").
		SetDirection(message.DirectionNote).SetVisibility(message.VisibilityInternal).SetChannel(message.ChannelDesk).
		SetBodyText("SECRET NOTE: contact address is not on the account").SetAuthorID(agent.ID).ExecX(ctx)
	client.Message.Create().SetCaseID(c.ID).SetMessageIDHeader(unique("hidden") + "@desk.test").
		SetDirection(message.DirectionOutbound).SetVisibility(message.VisibilityInternal).SetChannel(message.ChannelDesk).
		SetBodyText("INTERNAL OUTBOUND draft").ExecX(ctx)
	client.Message.Create().SetCaseID(c.ID).SetMessageIDHeader(unique("reply") + "@desk.test").
		SetDirection(message.DirectionOutbound).SetVisibility(message.VisibilityPublic).SetChannel(message.ChannelDesk).
		SetBodyText("Which projects do you maintain?").SetAuthorID(agent.ID).ExecX(ctx)

	var fe desk.FieldErrors
	if err := fx.in.AddInformation(ctx, ref, token, " \n ", nil, desk.Origin{}); !errors.As(err, &fe) || fe["text"] == "" {
		t.Fatalf("empty text: error %v, want FieldErrors on text", err)
	}
	if err := fx.in.AddInformation(ctx, ref, token, strings.Repeat("x", desk.MaxAddedText+1), nil, desk.Origin{}); !errors.As(err, &fe) {
		t.Fatalf("long text: error %v, want FieldErrors", err)
	}
	if err := fx.in.AddInformation(ctx, ref, "wrong", "I maintain bernoulli.", nil, desk.Origin{}); !errors.Is(err, desk.ErrNotFound) {
		t.Fatalf("wrong token: error %v, want ErrNotFound", err)
	}
	if err := fx.in.AddInformation(ctx, ref, token, "I maintain bernoulli.", nil, desk.Origin{IP: "192.0.2.9"}); err != nil {
		t.Fatal(err)
	}

	v, err := fx.in.Status(ctx, ref, token)
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, m := range v.Messages {
		bodies = append(bodies, m.Body)
	}
	all := strings.Join(bodies, "\n")
	if strings.Contains(all, "SECRET NOTE") || strings.Contains(all, "INTERNAL") {
		t.Fatalf("status shows internal messages: %q", bodies)
	}
	if len(v.Messages) != 3 || v.Messages[1].FromRequester || !v.Messages[2].FromRequester || v.Messages[2].Body != "I maintain bernoulli." {
		t.Fatalf("messages %+v", v.Messages)
	}

	added := client.Message.Query().Where(message.CaseID(c.ID), message.BodyText("I maintain bernoulli.")).OnlyX(ctx)
	if added.Visibility != message.VisibilityPublic || added.Channel != message.ChannelWeb || added.Direction != message.DirectionInbound {
		t.Errorf("added message %+v", added)
	}
	if after := client.SupportCase.GetX(ctx, c.ID); !after.LastActivityAt.After(c.LastActivityAt) {
		t.Errorf("last activity %v not after %v", after.LastActivityAt, c.LastActivityAt)
	}
	if n := client.CaseEvent.Query().Where(caseevent.CaseID(c.ID), caseevent.Kind("requester_added_information")).CountX(ctx); n != 1 {
		t.Errorf("%d requester_added_information events", n)
	}
	notice := client.OutboundMail.Query().Where(outboundmail.CaseID(c.ID), outboundmail.Purpose(desk.MailCaseUpdated)).OnlyX(ctx)
	if notice.ToAddress != agentAddr || !strings.Contains(notice.BodyText, "I maintain bernoulli.") {
		t.Errorf("notice to %s:\n%s", notice.ToAddress, notice.BodyText)
	}
}

// A reply by email shows what the person wrote; the history their mail
// program quoted below it is folded away, not lost.
func TestStatusFoldsQuotedHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newIntake(t)
	client := testdb.Store(t).Ent
	ref, token := submitted(t, fx)
	c := client.SupportCase.Query().Where(supportcase.Reference(ref)).OnlyX(ctx)
	client.Message.Create().SetCaseID(c.ID).SetMessageIDHeader(unique("reply") + "@example.org").
		SetDirection(message.DirectionInbound).SetVisibility(message.VisibilityPublic).SetChannel(message.ChannelEmail).
		SetBodyText("I still have my old laptop with the key.\n\nOn Mon, 2 Nov 2026 at 10:00, Support <support@desk.test> wrote:\n> We received your request.\n> Reference RD-XXXXXX\n").ExecX(ctx)
	v, err := fx.in.Status(ctx, ref, token)
	if err != nil {
		t.Fatal(err)
	}
	last := v.Messages[len(v.Messages)-1]
	if strings.Contains(last.Body, "We received your request") || !strings.Contains(last.Body, "old laptop") {
		t.Fatalf("visible body %q", last.Body)
	}
	if !strings.Contains(last.Quoted, "We received your request") {
		t.Fatalf("quoted history lost: %q", last.Quoted)
	}
}
