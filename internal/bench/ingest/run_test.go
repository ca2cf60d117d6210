package ingest_test

import (
	"bytes"
	"net/mail"
	"net/url"
	"testing"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/internal/bench/ingest"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// A small run of the benchmark is an end-to-end check of ingestion with
// the realistic mix: every message is committed, each kind is stored,
// quarantined or dropped as it should be, and the numbers add up.
func TestRunIngestsTheMix(t *testing.T) {
	st := testdb.Store(t)
	ob, err := mailbox.NewOutbox(mailbox.OutboxConfig{Client: st.Ent, From: mail.Address{Address: "support@desk.test"}})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := mailbox.NewMessageIDSigner(bytes.Repeat([]byte("k"), 32), "desk.test")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("http://desk.test")
	in := desk.NewInbound(st, ob, signer, desk.InboundOptions{SupportAddresses: []string{"support@desk.test"}, BaseURL: base, SiteName: "Test"})
	r, err := ingest.Run(t.Context(), ingest.Deps{Store: st, Handler: in}, ingest.Options{
		Messages: 300, Paced: 100, Rate: 500, Warmup: 30, Connections: 3, Seed: 42, BatchSize: 50, Support: "support@desk.test",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []ingest.Kind{ingest.KindNew, ingest.KindReplyAck, ingest.KindReplyThread, ingest.KindReplyMarker, ingest.KindReplyTag, ingest.KindDuplicate, ingest.KindAutoReply, ingest.KindBounce} {
		if r.ByKind[k] == 0 {
			t.Errorf("the mix has no %q", k)
		}
	}
	if r.Messages != 400 || r.Latency.Count != 100 || r.Rate <= 0 || r.Latency.P99 < r.Latency.P50 || r.Latency.P50 <= 0 {
		t.Errorf("report %+v", r)
	}
	if r.Stored+r.Quarantine+r.Dropped != 400 || r.Dropped != r.ByKind[ingest.KindDuplicate]+r.ByKind[ingest.KindBounce] {
		t.Errorf("stored %d + quarantined %d + dropped %d; the mix has %d duplicates and %d bounces",
			r.Stored, r.Quarantine, r.Dropped, r.ByKind[ingest.KindDuplicate], r.ByKind[ingest.KindBounce])
	}
	// Replies thread: far fewer cases than messages were opened.
	var cases, bounced int
	if err := st.Pool.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM cases),
		(SELECT count(*) FROM outbound_mails WHERE status = 'bounced')`).Scan(&cases, &bounced); err != nil {
		t.Fatal(err)
	}
	if want := 30 + r.ByKind[ingest.KindNew] + r.ByKind[ingest.KindMalformed]; cases > want {
		t.Errorf("%d cases opened, want at most %d (new requests and malformed mail): replies did not thread", cases, want)
	}
	if bounced == 0 {
		t.Error("no acknowledgement was marked bounced")
	}
}
