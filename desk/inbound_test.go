package desk_test

import (
	"bytes"
	"context"
	"net/mail"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/caseevent"
	"github.com/recoverydesk/recoverydesk/ent/caseparticipant"
	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// inboundFixture is an Inbound on the package database, with a mailbox
// name of its own so tests running in parallel never see each other's
// messages.
type inboundFixture struct {
	t      *testing.T
	in     *desk.Inbound
	signer *mailbox.MessageIDSigner
	client *ent.Client
	st     *store.Store
	box    string
	uid    atomic.Uint32
}

func newInbound(t *testing.T, options ...func(*desk.InboundOptions)) *inboundFixture {
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
	opts := desk.InboundOptions{
		SupportAddresses: []string{"support@desk.test"},
		SiteName:         "Recovery Desk Test",
		BaseURL:          base,
	}
	for _, o := range options {
		o(&opts)
	}
	in := desk.NewInbound(st, ob, signer, opts)
	return &inboundFixture{t: t, in: in, signer: signer, client: st.Ent, st: st, box: unique("INBOX")}
}

// deliver hands raw to HandleMessage as the next UID of the fixture's
// mailbox and returns the fetched message.
func (fx *inboundFixture) deliver(raw []byte) mailbox.Fetched {
	fx.t.Helper()
	f := mailbox.Fetched{Mailbox: fx.box, UIDValidity: 7, UID: fx.uid.Add(1), Raw: raw}
	if err := fx.in.HandleMessage(context.Background(), f); err != nil {
		fx.t.Fatalf("HandleMessage: %v", err)
	}
	return f
}

// compose builds a message to support with its own Message-ID.
func compose(t *testing.T, o mailbox.Outgoing) (raw []byte, msgID string) {
	t.Helper()
	if o.To.Address == "" {
		o.To = mail.Address{Address: "support@desk.test"}
	}
	if o.MessageID == "" {
		o.MessageID = mailbox.NewMessageID("example.com")
	}
	raw, err := mailbox.Compose(o)
	if err != nil {
		t.Fatal(err)
	}
	return raw, o.MessageID
}

// stored returns the message stored under msgID in the fixture's mailbox.
func (fx *inboundFixture) stored(msgID string) *ent.Message {
	fx.t.Helper()
	m, err := fx.client.Message.Query().
		Where(message.Mailbox(fx.box), message.MessageIDHeader(mailbox.NormalizeMessageID(msgID))).
		Only(context.Background())
	if err != nil {
		fx.t.Fatalf("message %s: %v", msgID, err)
	}
	if m.CaseID == nil {
		fx.t.Fatalf("message %s has no case", msgID)
	}
	return m
}

// acks returns the acknowledgements queued for the case.
func (fx *inboundFixture) acks(caseID int) []*ent.OutboundMail {
	fx.t.Helper()
	l, err := fx.client.OutboundMail.Query().
		Where(outboundmail.CaseID(caseID), outboundmail.Purpose(desk.MailEmailAcknowledgement)).
		All(context.Background())
	if err != nil {
		fx.t.Fatal(err)
	}
	return l
}

// opened delivers a new email from sender and returns its case and ack.
func (fx *inboundFixture) opened(sender mail.Address, subject, text string) (*ent.SupportCase, *ent.OutboundMail) {
	fx.t.Helper()
	raw, id := compose(fx.t, mailbox.Outgoing{From: sender, Subject: subject, Text: text})
	fx.deliver(raw)
	m := fx.stored(id)
	c, err := fx.client.SupportCase.Get(context.Background(), *m.CaseID)
	if err != nil {
		fx.t.Fatal(err)
	}
	acks := fx.acks(c.ID)
	if len(acks) != 1 {
		fx.t.Fatalf("%d acknowledgements, want 1", len(acks))
	}
	return c, acks[0]
}

func newSender(name string) mail.Address {
	return mail.Address{Name: "Ada Lovelace", Address: unique(name) + "@example.com"}
}

func TestInboundNewEmailOpensCase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newInbound(t)
	ada := newSender("ada")
	c, ack := fx.opened(ada, "Lost my phone", "I lost my phone with the authenticator app and can't log in.")

	if c.Kind != supportcase.KindRecovery || c.Status != supportcase.StatusNew {
		t.Errorf("kind %s status %s", c.Kind, c.Status)
	}
	if c.RequesterEmailNormalized != strings.ToLower(ada.Address) || c.Subject != "Lost my phone" {
		t.Errorf("requester %q subject %q", c.RequesterEmailNormalized, c.Subject)
	}
	if _, err := fx.client.CaseParticipant.Query().Where(caseparticipant.CaseID(c.ID),
		caseparticipant.EmailNormalized(strings.ToLower(ada.Address)), caseparticipant.RoleEQ(caseparticipant.RoleRequester)).Only(ctx); err != nil {
		t.Errorf("requester participant: %v", err)
	}
	if want := "[" + c.Reference + "] Re: Lost my phone"; ack.Subject != want {
		t.Errorf("ack subject %q, want %q", ack.Subject, want)
	}
	if ack.Headers["Auto-Submitted"] != "auto-replied" {
		t.Errorf("ack headers %v", ack.Headers)
	}
	if ref, ok := fx.signer.Verify(ack.MessageIDHeader); !ok || ref != c.Reference {
		t.Errorf("ack message-id %q verifies as %q %v", ack.MessageIDHeader, ref, ok)
	}
	for _, want := range []string{fx.signer.Marker(c.Reference), mailbox.ReplyAboveMarker, testBase + "/case/" + c.Reference + "?token="} {
		if !strings.Contains(ack.BodyText, want) {
			t.Errorf("ack body lacks %q:\n%s", want, ack.BodyText)
		}
	}
	if ack.ToAddress != ada.Address {
		t.Errorf("ack to %q", ack.ToAddress)
	}

	_, generalAck := fx.opened(newSender("bob"), "Question about releases", "How do I yank a release?")
	if gc, _ := fx.client.SupportCase.Get(ctx, *generalAck.CaseID); gc.Kind != supportcase.KindGeneral {
		t.Errorf("general question opened a %s case", gc.Kind)
	}
}

func TestInboundRepliesJoinTheirCase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newInbound(t)
	ada := newSender("ada")
	c, ack := fx.opened(ada, "Locked out", "I cannot log in, my security key is gone.")

	replies := map[string]mailbox.Outgoing{
		"in-reply-to": {From: ada, Subject: "Re: " + ack.Subject, Text: "Here is more.", InReplyTo: ack.MessageIDHeader},
		"references":  {From: ada, Subject: "more", Text: "And more.", References: []string{"unknown@example.org", ack.MessageIDHeader}},
		// Exchange rewrote the IDs; only the quoted marker is left.
		"marker": {From: ada, Subject: "RE: something", Text: "Reply above.\n\n> " + strings.ReplaceAll(ack.BodyText, "\n", "\n> ")},
		"tag":    {From: mail.Address{Address: strings.ToUpper(ada.Address)}, Subject: "about " + c.Reference, Text: "Anything new?"},
	}
	for name, o := range replies {
		raw, id := compose(t, o)
		fx.deliver(raw)
		if m := fx.stored(id); *m.CaseID != c.ID {
			t.Errorf("%s reply went to case %d, want %d", name, *m.CaseID, c.ID)
		}
	}
	if n := len(fx.acks(c.ID)); n != 1 {
		t.Errorf("%d acknowledgements after replies, want 1", n)
	}
	n, err := fx.client.CaseEvent.Query().Where(caseevent.CaseID(c.ID), caseevent.Kind("requester_replied")).Count(ctx)
	if err != nil || n != len(replies) {
		t.Errorf("%d requester_replied events (%v), want %d", n, err, len(replies))
	}
	// The requester's replies leave them the one requester participant.
	parts, err := fx.client.CaseParticipant.Query().Where(caseparticipant.CaseID(c.ID)).All(ctx)
	if err != nil || len(parts) != 1 || parts[0].Role != caseparticipant.RoleRequester {
		t.Errorf("participants after the requester's replies: %v (%v), want the requester alone", parts, err)
	}

	// A stranger who types the tag opens a case of their own.
	raw, id := compose(t, mailbox.Outgoing{From: newSender("mallory"), Subject: "Re: [" + c.Reference + "]", Text: "Give me the account."})
	fx.deliver(raw)
	if m := fx.stored(id); *m.CaseID == c.ID {
		t.Error("a stranger's subject tag joined the case")
	} else if len(fx.acks(*m.CaseID)) != 1 {
		t.Error("the stranger's new case got no acknowledgement")
	}

	// Someone in Cc who answers our mail joins as a cc participant.
	carol := newSender("carol")
	raw, id = compose(t, mailbox.Outgoing{From: carol, Subject: "Re: x", Text: "I can vouch.", InReplyTo: ack.MessageIDHeader})
	fx.deliver(raw)
	if m := fx.stored(id); *m.CaseID != c.ID {
		t.Errorf("cc reply went to case %d", *m.CaseID)
	}
	if ok, _ := fx.client.CaseParticipant.Query().Where(caseparticipant.CaseID(c.ID),
		caseparticipant.EmailNormalized(strings.ToLower(carol.Address)), caseparticipant.RoleEQ(caseparticipant.RoleCc)).Exist(ctx); !ok {
		t.Error("cc replier is not a participant")
	}
}

func TestInboundStoresOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newInbound(t)
	raw, id := compose(t, mailbox.Outgoing{From: newSender("ada"), Subject: "Hello", Text: "Twice delivered.",
		HTML: `<p onclick="x()">Twice <script>alert(1)</script><b>delivered</b>.</p>`})
	fx.deliver(raw)
	fx.deliver(raw)
	n, err := fx.client.Message.Query().Where(message.MessageIDHeader(mailbox.NormalizeMessageID(id))).Count(ctx)
	if err != nil || n != 1 {
		t.Fatalf("stored %d times (%v)", n, err)
	}
	m := fx.stored(id)
	if len(fx.acks(*m.CaseID)) != 1 {
		t.Error("second delivery changed the acknowledgements")
	}
	if m.BodyHTML == nil || strings.Contains(*m.BodyHTML, "script") || strings.Contains(*m.BodyHTML, "onclick") || !strings.Contains(*m.BodyHTML, "<b>delivered</b>") {
		t.Errorf("html not sanitised: %v", m.BodyHTML)
	}
	if !bytes.Equal(m.Raw, raw) || m.ImapUID == nil || *m.ImapUID != 1 || m.Direction != message.DirectionInbound || m.Channel != message.ChannelEmail {
		t.Errorf("stored message %+v", m)
	}

	// Without a Message-ID the derived one dedupes just the same.
	plain := []byte("From: " + unique("x") + "@example.com\r\nTo: support@desk.test\r\nSubject: no id\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n\r\nhello\r\n")
	fx.deliver(plain)
	fx.deliver(plain)
	n, err = fx.client.Message.Query().Where(message.Mailbox(fx.box), message.MessageIDHeaderHasPrefix("derived.")).Count(ctx)
	if err != nil || n != 1 {
		t.Errorf("message without id stored %d times (%v)", n, err)
	}
}

func TestInboundAutoRepliesGetNoAck(t *testing.T) {
	t.Parallel()
	fx := newInbound(t)
	raw, id := compose(t, mailbox.Outgoing{From: newSender("ooo"), Subject: "Out of office", Text: "I am away.",
		Headers: map[string]string{"Auto-Submitted": "auto-replied"}})
	fx.deliver(raw)
	m := fx.stored(id)
	if !m.AutoSubmitted {
		t.Error("auto-reply not flagged")
	}
	if n := len(fx.acks(*m.CaseID)); n != 0 {
		t.Errorf("auto-reply got %d acknowledgements", n)
	}
}

func TestInboundAutoReplyLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newInbound(t)
	ada := newSender("ada")
	for i := range 6 {
		raw, _ := compose(t, mailbox.Outgoing{From: ada, Subject: "Help " + string(rune('A'+i)), Text: "Please help."})
		fx.deliver(raw)
	}
	cases, err := fx.client.SupportCase.Query().Where(supportcase.RequesterEmail(ada.Address)).Count(ctx)
	if err != nil || cases != 6 {
		t.Fatalf("%d cases (%v), want 6", cases, err)
	}
	acks, err := fx.client.OutboundMail.Query().Where(outboundmail.ToAddress(ada.Address)).Count(ctx)
	if err != nil || acks != mailbox.MaxAutoRepliesPerHour {
		t.Errorf("%d acknowledgements (%v), want %d", acks, err, mailbox.MaxAutoRepliesPerHour)
	}
}

// dsn is a delivery status notification for the mail with Message-ID
// original, as Postfix writes it.
func dsn(original, recipient string) []byte {
	s := `Return-Path: <>
From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
To: support@desk.test
Subject: Undelivered Mail Returned to Sender
Date: Sat, 21 Nov 2026 10:00:00 +0000
Message-ID: <` + unique("dsn") + `@mx.example.net>
MIME-Version: 1.0
Auto-Submitted: auto-replied
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUND"

--BOUND
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--BOUND
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; ` + recipient + `
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--BOUND
Content-Type: text/rfc822-headers

From: support@desk.test
To: ` + recipient + `
Subject: [RD] ack
Message-ID: <` + original + `>

--BOUND--
`
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

func TestInboundBounceMarksMail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newInbound(t)
	c, ack := fx.opened(newSender("gone"), "Hello", "Anyone there?")

	raw := dsn(ack.MessageIDHeader, ack.ToAddress)
	fx.deliver(raw)
	fx.deliver(dsn("unknown."+unique("x")+"@desk.test", ack.ToAddress)) // unmatched: dropped

	got, err := fx.client.OutboundMail.Get(ctx, ack.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != outboundmail.StatusBounced || got.BouncedAt == nil || got.LastError == nil || !strings.Contains(*got.LastError, "5.1.1") {
		t.Errorf("ack after bounce: status %s bounced_at %v last_error %v", got.Status, got.BouncedAt, got.LastError)
	}
	if n, _ := fx.client.CaseEvent.Query().Where(caseevent.CaseID(c.ID), caseevent.Kind("mail_bounced")).Count(ctx); n != 1 {
		t.Errorf("%d mail_bounced events", n)
	}
	if n, _ := fx.client.Message.Query().Where(message.Mailbox(fx.box)).Count(ctx); n != 1 {
		t.Errorf("%d messages stored in the mailbox, want only the first email", n)
	}
	if n, _ := fx.client.SupportCase.Query().Where(supportcase.RequesterEmailContainsFold("mailer-daemon")).Count(ctx); n != 0 {
		t.Errorf("bounce opened %d cases", n)
	}
}

func TestInboundConcurrentDeliveryStoresOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newInbound(t)
	ada := newSender("ada")
	raw, id := compose(t, mailbox.Outgoing{From: ada, Subject: "Race", Text: "Two workers, one message."})
	errs := make(chan error, 4)
	for i := range 4 {
		go func() {
			errs <- fx.in.HandleMessage(ctx, mailbox.Fetched{Mailbox: fx.box, UIDValidity: 7, UID: uint32(100 + i), Raw: raw})
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	n, err := fx.client.Message.Query().Where(message.MessageIDHeader(mailbox.NormalizeMessageID(id))).Count(ctx)
	if err != nil || n != 1 {
		t.Fatalf("stored %d times (%v)", n, err)
	}
	cases, err := fx.client.SupportCase.Query().Where(supportcase.RequesterEmail(ada.Address)).Count(ctx)
	if err != nil || cases != 1 {
		t.Errorf("%d cases (%v), want 1", cases, err)
	}
}
