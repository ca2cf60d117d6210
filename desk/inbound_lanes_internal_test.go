package desk

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/recoverydesk/recoverydesk/mailbox"
)

// Messages that share a thread, a sender or a case land in one lane, in
// batch order; unrelated ones are spread over the lanes.
func TestLanesKeepRelatedMessagesTogether(t *testing.T) {
	signer, err := mailbox.NewMessageIDSigner(bytes.Repeat([]byte("s"), 32), "desk.test")
	if err != nil {
		t.Fatal(err)
	}
	in := NewInbound(nil, nil, signer, InboundOptions{})
	ack := signer.New("RD-7K3F9Q")
	msg := func(from, subject, extra, body string) []byte {
		return fmt.Appendf(nil, "From: %s\r\nSubject: %s\r\nMessage-ID: <%s-%s@example.com>\r\n%s\r\n%s\r\n", from, subject, from[:3], subject[:4], extra, body)
	}
	raws := [][]byte{
		0: msg("ada@example.com", "first request", "", "hello"),
		1: msg("bob@example.com", "other request", "", "hello"),
		2: msg("cat@example.com", "Re: first", "In-Reply-To: <ada-firs@example.com>\r\n", "reply by header"),
		3: msg("ADA@example.com", "second from ada", "", "same sender"),
		4: msg("dan@example.com", "Re: [RD-7K3F9Q] tag", "", "tag"),
		5: msg("eve@example.com", "Re: ours", "In-Reply-To: <"+ack+">\r\n", "reply to our signed mail"),
		6: msg("fay@example.com", "quoting", "", "> "+signer.Marker("RD-7K3F9Q")),
		7: msg("gus@example.com", "unrelated", "", "hello"),
		8: []byte("not an email\x00"),
	}
	ms := make([]incoming, len(raws))
	errs := make([]error, len(raws))
	for i, raw := range raws {
		ms[i], errs[i] = in.prepare(mailbox.Fetched{Raw: raw})
	}
	if errs[8] == nil {
		t.Fatal("garbage prepared without error")
	}
	got := lanes(ms, errs, 3, signer)
	laneOf := map[int]int{}
	for l, lane := range got {
		for k, i := range lane {
			laneOf[i] = l
			if k > 0 && lane[k-1] >= i {
				t.Errorf("lane %d out of batch order: %v", l, lane)
			}
		}
	}
	if len(laneOf) != len(raws) {
		t.Fatalf("lanes %v lose messages", got)
	}
	for _, same := range [][]int{{0, 2, 3}, {4, 5, 6}} {
		for _, i := range same[1:] {
			if laneOf[i] != laneOf[same[0]] {
				t.Errorf("message %d in lane %d, message %d in lane %d; want together (lanes %v)", i, laneOf[i], same[0], laneOf[same[0]], got)
			}
		}
	}
	if laneOf[8] != 0 {
		t.Errorf("the unparseable message is in lane %d, want 0", laneOf[8])
	}
	if len(got) != 3 {
		t.Errorf("%d lanes, want 3 (lanes %v)", len(got), got)
	}
}

// A message without a sender shares no key with another such message:
// an empty value ties nothing together.
func TestLaneKeysSkipEmptyValues(t *testing.T) {
	signer, err := mailbox.NewMessageIDSigner(bytes.Repeat([]byte("s"), 32), "desk.test")
	if err != nil {
		t.Fatal(err)
	}
	in := NewInbound(nil, nil, signer, InboundOptions{})
	m, err := in.prepare(mailbox.Fetched{Raw: []byte("Subject: no sender\r\nMessage-ID: <nosender@example.com>\r\n\r\nhi\r\n")})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range laneKeys(m, signer) {
		if k == "from:" || k == "id:" || k == "case:" {
			t.Errorf("lane key %q has no value (keys %v)", k, laneKeys(m, signer))
		}
	}
}
