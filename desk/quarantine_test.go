package desk_test

import (
	"context"
	"errors"
	"testing"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/quarantinedmessage"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// quarantined returns the fixture mailbox's quarantine entries.
func (fx *inboundFixture) quarantined() []*ent.QuarantinedMessage {
	fx.t.Helper()
	l, err := fx.client.QuarantinedMessage.Query().Where(quarantinedmessage.Mailbox(fx.box)).
		Order(ent.Asc(quarantinedmessage.FieldID)).All(context.Background())
	if err != nil {
		fx.t.Fatal(err)
	}
	return l
}

func TestInboundQuarantinesGarbage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newInbound(t)
	garbage := []byte("this is not an email\x00\xff at all\njust bytes\n")
	f := fx.deliver(garbage)
	// The same UID fetched again is quarantined once.
	if err := fx.in.HandleMessage(ctx, f); err != nil {
		t.Fatal(err)
	}
	q := fx.quarantined()
	if len(q) != 1 {
		t.Fatalf("%d quarantine entries, want 1", len(q))
	}
	if q[0].Status != quarantinedmessage.StatusPending || q[0].ImapUID != f.UID || q[0].ImapUidvalidity != 7 ||
		string(q[0].Raw) != string(garbage) || q[0].Error == "" {
		t.Errorf("entry %+v", q[0])
	}

	// The mailbox goes on.
	raw, id := compose(t, mailbox.Outgoing{From: newSender("ada"), Subject: "after", Text: "still works"})
	fx.deliver(raw)
	fx.stored(id)

	pending, err := desk.ListQuarantine(ctx, fx.client, quarantinedmessage.StatusPending)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range pending {
		found = found || p.ID == q[0].ID
	}
	if !found {
		t.Error("ListQuarantine does not list the entry")
	}

	// Still garbage on retry: stays pending.
	if err := fx.in.Retry(ctx, q[0].ID); !errors.Is(err, desk.ErrStillUnparseable) {
		t.Errorf("Retry of garbage: %v", err)
	}
	if got := fx.quarantined()[0]; got.Status != quarantinedmessage.StatusPending {
		t.Errorf("status %s after failed retry", got.Status)
	}

	if err := fx.in.Discard(ctx, q[0].ID); err != nil {
		t.Fatal(err)
	}
	if got := fx.quarantined()[0]; got.Status != quarantinedmessage.StatusDiscarded {
		t.Errorf("status %s after discard", got.Status)
	}
}

func TestQuarantineRetryStores(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newInbound(t)
	// As if a parser fix made a once-quarantined message readable.
	raw, id := compose(t, mailbox.Outgoing{From: newSender("ada"), Subject: "retry me", Text: "I was quarantined."})
	q, err := fx.client.QuarantinedMessage.Create().SetMailbox(fx.box).SetImapUID(41).SetImapUidvalidity(7).
		SetRaw(raw).SetError("old parser bug").Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.in.Retry(ctx, q.ID); err != nil {
		t.Fatal(err)
	}
	m := fx.stored(id)
	if m.ImapUID == nil || *m.ImapUID != 41 {
		t.Errorf("stored uid %v", m.ImapUID)
	}
	if got := fx.quarantined()[0]; got.Status != quarantinedmessage.StatusRetried {
		t.Errorf("status %s after retry", got.Status)
	}
	if err := fx.in.Retry(ctx, q.ID+1_000_000); err == nil {
		t.Error("Retry of a missing entry succeeded")
	}
}
