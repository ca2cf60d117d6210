package desk_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/caseevent"
	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// batch hands raws to HandleBatch as the next UIDs of the fixture's
// mailbox.
func (fx *inboundFixture) batch(raws ...[]byte) []mailbox.Fetched {
	fx.t.Helper()
	ms := make([]mailbox.Fetched, len(raws))
	for i, raw := range raws {
		ms[i] = mailbox.Fetched{Mailbox: fx.box, UIDValidity: 7, UID: fx.uid.Add(1), Raw: raw}
	}
	if err := fx.in.HandleBatch(context.Background(), ms); err != nil {
		fx.t.Fatalf("HandleBatch: %v", err)
	}
	return ms
}

func oneLane(o *desk.InboundOptions) { o.Lanes = 1 }

// transactions counts the distinct transactions that wrote the fixture
// mailbox's messages and quarantine entries for uids (PostgreSQL's xmin).
func (fx *inboundFixture) transactions(uids ...uint32) int {
	fx.t.Helper()
	var n int
	err := fx.st.Pool.QueryRow(context.Background(), `SELECT count(DISTINCT x) FROM (
		SELECT xmin::text AS x FROM messages WHERE mailbox = $1 AND imap_uid = ANY($2)
		UNION ALL SELECT xmin::text FROM quarantined_messages WHERE mailbox = $1 AND imap_uid = ANY($2)) t`,
		fx.box, uids).Scan(&n)
	if err != nil {
		fx.t.Fatal(err)
	}
	return n
}

func TestInboundBatchStoresInOneTransaction(t *testing.T) {
	t.Parallel()
	fx := newInbound(t, oneLane)
	ada := newSender("ada")
	earlierCase, _ := fx.opened(ada, "Lost my key", "Please help.")
	earlierRaw, earlierID := compose(t, mailbox.Outgoing{From: ada, Subject: "Lost my key", Text: "Again."})
	fx.deliver(earlierRaw)

	grace := newSender("grace")
	first, firstID := compose(t, mailbox.Outgoing{From: grace, Subject: "Locked out", Text: "My phone is gone."})
	// Replies to a message earlier in the same batch, by header.
	reply, replyID := compose(t, mailbox.Outgoing{From: grace, Subject: "Re: Locked out", Text: "More details.", InReplyTo: firstID, References: []string{firstID}})
	// Replies to the earlier case by its subject tag.
	tagged, taggedID := compose(t, mailbox.Outgoing{From: ada, Subject: fmt.Sprintf("Re: [%s] news", earlierCase.Reference), Text: "Found my codes."})
	garbage := []byte("this is not an email\x00\xff at all\n")
	noSender := []byte("Subject: who?\r\nMessage-ID: <nosender-" + unique("x") + "@example.com>\r\n\r\nno From here\r\n")

	ms := fx.batch(first, reply, earlierRaw, first, tagged, garbage, noSender)

	c := fx.stored(firstID)
	if r := fx.stored(replyID); *r.CaseID != *c.CaseID {
		t.Errorf("reply went to case %d, want %d (its parent earlier in the batch)", *r.CaseID, *c.CaseID)
	}
	if m := fx.stored(taggedID); *m.CaseID != earlierCase.ID {
		t.Errorf("tagged reply went to case %d, want %d", *m.CaseID, earlierCase.ID)
	}
	for _, id := range []string{firstID, earlierID} {
		n, err := fx.client.Message.Query().
			Where(message.Mailbox(fx.box), message.MessageIDHeader(mailbox.NormalizeMessageID(id))).
			Count(context.Background())
		if err != nil || n != 1 {
			t.Errorf("message %s stored %d times (%v), want once", id, n, err)
		}
	}
	if len(fx.acks(*c.CaseID)) != 1 {
		t.Errorf("the new case has %d acknowledgements, want 1", len(fx.acks(*c.CaseID)))
	}
	q := fx.quarantined()
	if len(q) != 2 || q[0].ImapUID != ms[5].UID || q[1].ImapUID != ms[6].UID {
		t.Fatalf("quarantine = %d entries, want the garbage and the message without sender", len(q))
	}
	if !strings.Contains(q[1].Error, "no sender") {
		t.Errorf("quarantine reason %q", q[1].Error)
	}
	uids := make([]uint32, len(ms))
	for i, m := range ms {
		uids[i] = m.UID
	}
	if n := fx.transactions(uids...); n != 1 {
		t.Errorf("the batch was written by %d transactions, want 1", n)
	}
}

// incompressible returns n letters that PostgreSQL cannot compress below
// the size of an index entry.
func incompressible(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + r.IntN(26))
	}
	return string(b)
}

// A message PostgreSQL refuses (a sender address longer than its index
// allows) rolls the batch back; every message is then handled alone, the
// refused one is quarantined and the rest stored.
func TestInboundBatchFallsBackMessageByMessage(t *testing.T) {
	t.Parallel()
	fx := newInbound(t, oneLane)
	a, aID := compose(t, mailbox.Outgoing{From: newSender("ada"), Subject: "one", Text: "first"})
	b, bID := compose(t, mailbox.Outgoing{From: newSender("bob"), Subject: "two", Text: "second"})
	huge := []byte("From: <" + incompressible(8000) + "@example.com>\r\nSubject: long sender\r\n\r\nhello\r\n")

	ms := fx.batch(a, huge, b)

	fx.stored(aID)
	fx.stored(bID)
	q := fx.quarantined()
	if len(q) != 1 || q[0].ImapUID != ms[1].UID {
		t.Fatalf("quarantine = %d entries, want the message with the huge sender address", len(q))
	}
	if n := fx.transactions(ms[0].UID, ms[1].UID, ms[2].UID); n != 3 {
		t.Errorf("%d transactions wrote the batch, want 3 (one per message after the rollback)", n)
	}
}

// With two lanes, a batch is stored by two concurrent transactions, and a
// reply travels in its parent's, so it still threads.
func TestInboundBatchLanes(t *testing.T) {
	t.Parallel()
	fx := newInbound(t, func(o *desk.InboundOptions) { o.Lanes = 2 })
	var raws [][]byte
	var parents, replies []string
	for i := range 4 {
		from := newSender(fmt.Sprintf("lane%d", i))
		raw, id := compose(t, mailbox.Outgoing{From: from, Subject: "Locked out", Text: "Please help."})
		raws, parents = append(raws, raw), append(parents, id)
	}
	for i, parent := range parents {
		// From someone else (a colleague in Cc), so only the header ties
		// the reply to its parent.
		raw, id := compose(t, mailbox.Outgoing{From: newSender(fmt.Sprintf("cc%d", i)), Subject: "Re: Locked out", Text: "Me too.", InReplyTo: parent, References: []string{parent}})
		raws, replies = append(raws, raw), append(replies, id)
	}
	ms := fx.batch(raws...)
	uids := make([]uint32, len(ms))
	for i, m := range ms {
		uids[i] = m.UID
	}
	if n := fx.transactions(uids...); n != 2 {
		t.Errorf("%d transactions stored the batch, want 2 lanes", n)
	}
	for i := range parents {
		p, r := fx.stored(parents[i]), fx.stored(replies[i])
		if *p.CaseID != *r.CaseID {
			t.Errorf("reply %d is in case %d, its parent in %d", i, *r.CaseID, *p.CaseID)
		}
		if n := fx.transactions(*p.ImapUID, *r.ImapUID); n != 1 {
			t.Errorf("reply %d and its parent were stored by %d transactions, want one", i, n)
		}
	}
}

// A display name cannot reorder the real address next to it: direction
// controls and line breaks are taken out before it is stored.
func TestInboundStoresNamesWithoutDirectionControls(t *testing.T) {
	t.Parallel()
	fx := newInbound(t)
	raw := []byte("From: \"PyPI \u202Egro.ipyp@ytiruces\u202C\" <attacker" + unique("x") + "@evil.example>\r\n" +
		"Subject: hello\r\nMessage-ID: <" + unique("bidi") + "@evil.example>\r\n\r\nhi\r\n")
	fx.deliver(raw)
	p, err := mailbox.Parse(raw, mailbox.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := fx.stored(p.MessageID)
	c, err := fx.client.SupportCase.Get(context.Background(), *m.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{m.FromName, c.RequesterName} {
		if name != "PyPI gro.ipyp@ytiruces" {
			t.Errorf("stored name %q, want the text without its direction controls", name)
		}
	}

	// Encoded words can carry what a header line cannot: line separators
	// and control characters become spaces (the parser already drops an
	// escape).
	encoded := "=?utf-8?b?" + base64.StdEncoding.EncodeToString([]byte("Ada AdminTeamX")) + "?="
	raw = []byte("From: " + encoded + " <ada" + unique("x") + "@example.org>\r\n" +
		"Subject: hello\r\nMessage-ID: <" + unique("ctl") + "@example.org>\r\n\r\nhi\r\n")
	fx.deliver(raw)
	if p, err = mailbox.Parse(raw, mailbox.ParseOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := fx.stored(p.MessageID).FromName; got != "Ada Admin TeamX" {
		t.Errorf("stored name %q, want %q", got, "Ada Admin TeamX")
	}
}

// What the parser leaves out of a forwarded message is listed for staff
// as well as what it leaves out of the message itself.
func TestInboundListsDroppedPartsOfForwardedMail(t *testing.T) {
	t.Parallel()
	fx := newInbound(t, func(o *desk.InboundOptions) { o.MaxAttachmentBytes = 16 })
	id := unique("fwd") + "@example.com"
	raw := []byte("From: ada" + unique("") + "@example.com\r\nSubject: forwarding the evidence\r\nMessage-ID: <" + id + ">\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n" +
		"--outer\r\nContent-Type: text/plain\r\n\r\nSee below.\r\n" +
		"--outer\r\nContent-Type: message/rfc822\r\n\r\n" +
		"From: github@example.com\r\nSubject: your key\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=inner\r\n\r\n" +
		"--inner\r\nContent-Type: text/plain\r\n\r\nkey attached\r\n" +
		"--inner\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"key.bin\"\r\n\r\n" +
		strings.Repeat("k", 200) + "\r\n--inner--\r\n--outer--\r\n")
	fx.deliver(raw)
	m := fx.stored(id)
	ev, err := fx.client.CaseEvent.Query().Where(caseevent.CaseID(*m.CaseID), caseevent.Kind("attachments_dropped")).Only(context.Background())
	if err != nil {
		t.Fatalf("no attachments_dropped event: %v", err)
	}
	if !strings.Contains(fmt.Sprint(ev.Details), "key.bin") {
		t.Errorf("event %v does not name the forwarded attachment", ev.Details)
	}
}
