package imapsync

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/recoverydesk/recoverydesk/ent/mailboxcheckpoint"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

func TestSyncOnceFetchesEachNewMessageOnce(t *testing.T) {
	ctx := context.Background()
	mb := startServer(t, "127.0.0.1:0")
	deliver(t, mb, 1, 3)
	rec := newRecorder()
	s := newSyncer(t, mb, "w1", rec, func(c *Config) { c.BatchSize = 2 })

	n, err := s.SyncOnce(ctx)
	if err != nil || n != 3 {
		t.Fatalf("first SyncOnce = %d, %v; want 3, nil", n, err)
	}
	if got := rec.uids(); !slices.Equal(got, []uint32{1, 2, 3}) {
		t.Fatalf("handled UIDs %v, want [1 2 3]", got)
	}
	for i, m := range rec.seen {
		if !bytes.Equal(m.Raw, rawMessage(i+1)) {
			t.Errorf("message %d raw = %q, want what was delivered", i+1, m.Raw)
		}
		if m.Mailbox != s.Mailbox() || m.UIDValidity == 0 {
			t.Errorf("message %d came as %q uidvalidity %d", i+1, m.Mailbox, m.UIDValidity)
		}
	}

	if n, err := s.SyncOnce(ctx); err != nil || n != 0 {
		t.Fatalf("second SyncOnce = %d, %v; want 0, nil", n, err)
	}

	deliver(t, mb, 4, 5)
	if n, err := s.SyncOnce(ctx); err != nil || n != 2 {
		t.Fatalf("third SyncOnce = %d, %v; want 2, nil", n, err)
	}
	if got := rec.uids(); !slices.Equal(got, []uint32{1, 2, 3, 4, 5}) {
		t.Fatalf("handled UIDs %v, want [1 2 3 4 5]", got)
	}
	row := checkpointRow(t, s)
	if row.LastUID != 5 || row.Uidvalidity != rec.seen[0].UIDValidity {
		t.Errorf("checkpoint last_uid %d uidvalidity %d, want 5 and %d", row.LastUID, row.Uidvalidity, rec.seen[0].UIDValidity)
	}
	if row.LeaseOwner != nil || row.LeaseExpiresAt != nil {
		t.Errorf("lease not released after SyncOnce: %v until %v", row.LeaseOwner, row.LeaseExpiresAt)
	}

	rep, err := Check(ctx, mb.URL())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Messages != 5 {
		t.Errorf("Check sees %d messages after ingestion, want 5", rep.Messages)
	}
}

func TestSyncOnceStopsAtHandlerErrorAndRetries(t *testing.T) {
	ctx := context.Background()
	mb := startServer(t, "127.0.0.1:0")
	deliver(t, mb, 1, 4)
	rec := newRecorder()
	rec.fail = func(m mailbox.Fetched) error {
		if m.UID == 3 {
			return errBoom
		}
		return nil
	}
	s := newSyncer(t, mb, "w1", rec, nil)

	n, err := s.SyncOnce(ctx)
	if !errors.Is(err, errBoom) || n != 2 {
		t.Fatalf("SyncOnce = %d, %v; want 2 and the handler's error", n, err)
	}
	if row := checkpointRow(t, s); row.LastUID != 2 {
		t.Fatalf("checkpoint at %d after failing on 3, want 2", row.LastUID)
	}

	rec.mu.Lock()
	rec.fail = nil
	rec.mu.Unlock()
	if n, err := s.SyncOnce(ctx); err != nil || n != 2 {
		t.Fatalf("retry SyncOnce = %d, %v; want 2, nil", n, err)
	}
	if got := rec.uids(); !slices.Equal(got, []uint32{1, 2, 3, 4}) {
		t.Fatalf("handled UIDs %v, want [1 2 3 4]", got)
	}
}

func TestSyncOnceRefetchesAfterUIDValidityChange(t *testing.T) {
	ctx := context.Background()
	mb := startServer(t, "127.0.0.1:0")
	deliver(t, mb, 1, 2)
	rec := newRecorder()
	s := newSyncer(t, mb, "w1", rec, nil)
	if n, err := s.SyncOnce(ctx); err != nil || n != 2 {
		t.Fatalf("SyncOnce = %d, %v; want 2, nil", n, err)
	}

	// As if the server had rebuilt the mailbox under a new UIDVALIDITY.
	err := testdb.Store(t).Ent.MailboxCheckpoint.Update().
		Where(mailboxcheckpoint.Mailbox(s.Mailbox())).
		SetUidvalidity(rec.seen[0].UIDValidity + 1000).
		Exec(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Everything comes again; Message-ID deduplication downstream makes
	// that harmless.
	if n, err := s.SyncOnce(ctx); err != nil || n != 2 {
		t.Fatalf("SyncOnce after UIDVALIDITY change = %d, %v; want 2, nil", n, err)
	}
	if got := rec.uids(); !slices.Equal(got, []uint32{1, 2, 1, 2}) {
		t.Fatalf("handled UIDs %v, want [1 2 1 2]", got)
	}
	row := checkpointRow(t, s)
	if row.Uidvalidity != rec.seen[0].UIDValidity || row.LastUID != 2 {
		t.Errorf("checkpoint uidvalidity %d last_uid %d, want %d and 2", row.Uidvalidity, row.LastUID, rec.seen[0].UIDValidity)
	}
}

func TestCheckReportsMailbox(t *testing.T) {
	mb := startServer(t, "127.0.0.1:0")
	deliver(t, mb, 1, 2)
	rep, err := Check(context.Background(), mb.URL())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.IDLE || rep.Messages != 2 || rep.UIDValidity == 0 || rep.UIDNext != 3 {
		t.Errorf("Check = %+v; want IDLE, 2 messages, a UIDVALIDITY, UIDNEXT 3", rep)
	}
	if rep.Mailbox != "support@"+mb.Addr()+"/INBOX" || len(rep.Capabilities) == 0 {
		t.Errorf("Check = %+v", rep)
	}

	bad := mb.URL()
	bad.User = nil
	if _, err := Check(context.Background(), bad); err == nil {
		t.Error("Check without a user name succeeded")
	}
	wrong := mb.URL()
	wrong.Path = "/Nope"
	if _, err := Check(context.Background(), wrong); err == nil {
		t.Error("Check of a missing mailbox succeeded")
	}
}
