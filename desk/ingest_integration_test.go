package desk_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/mailboxcheckpoint"
	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/ent/quarantinedmessage"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/mailbox"
	"github.com/recoverydesk/recoverydesk/mailbox/devmail"
	"github.com/recoverydesk/recoverydesk/mailbox/imapsync"
)

// ingestServer is an IMAP server the ingestion scenario runs against.
type ingestServer interface {
	URL() *url.URL
	// crash kills the server and starts it again on the same address;
	// appended holds every message appended so far, in order, for a
	// server that loses its mail on restart.
	crash(t *testing.T, appended [][]byte)
}

// memServer is the in-process devmail server. It keeps mail in memory
// only, so a crash loses it: the restarted server is refilled with the
// same messages in the same order before it listens, which gives them the
// same UIDs under the same UIDVALIDITY (a restore from backup). The crash
// then tests reconnection and no duplicates, not durability; Dovecot tests
// that.
type memServer struct {
	mu sync.Mutex
	mb *devmail.Mailbox
}

func startMemServer(t *testing.T) *memServer {
	t.Helper()
	mb := devmail.NewMailbox(slog.New(slog.DiscardHandler), unique("support"), "s3cret")
	if _, err := mb.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	s := &memServer{mb: mb}
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		_ = s.mb.Close()
	})
	return s
}

func (s *memServer) URL() *url.URL {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mb.URL()
}

func (s *memServer) crash(t *testing.T, appended [][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	addr := s.mb.Addr()
	if err := s.mb.Close(); err != nil {
		t.Errorf("close in-process IMAP server: %v", err)
	}
	mb := devmail.NewMailbox(slog.New(slog.DiscardHandler), s.mb.Username(), s.mb.Password())
	for _, raw := range appended {
		if err := mb.Deliver(context.Background(), raw); err != nil {
			t.Errorf("refill in-process IMAP server: %v", err)
		}
	}
	if _, err := mb.Start(addr); err != nil {
		t.Errorf("restart in-process IMAP server on %s: %v", addr, err)
	}
	s.mb = mb
}

func TestIngestDovecot(t *testing.T) {
	runIngestionScenario(t, startDovecot(t))
}

func TestIngestInProcessServer(t *testing.T) {
	runIngestionScenario(t, startMemServer(t))
}

// crashingHandler passes messages on and crashes the server once, just
// before handing on message number crashAt, in the middle of a fetch.
type crashingHandler struct {
	next    mailbox.MessageHandler
	crashAt int32
	crashed func()
	n       atomic.Int32
}

func (h *crashingHandler) HandleMessage(ctx context.Context, f mailbox.Fetched) error {
	if h.n.Add(1) == h.crashAt {
		h.crashed()
	}
	return h.next.HandleMessage(ctx, f)
}

// scenarioMail is one planned message: roots open cases, replies answer
// the message before them with In-Reply-To.
type scenarioMail struct {
	raw   []byte
	id    string // normalized Message-ID; "" for garbage
	root  int    // index of the case-opening message of its thread
	reply bool
}

const (
	scenarioMessages = 200
	scenarioCrashAt  = 50
)

// planScenario composes 198 distinct messages (threads of a request and
// two replies, each answering the one before), then appends a byte-exact
// copy of message 10 and one message that does not parse.
func planScenario(t *testing.T) []scenarioMail {
	t.Helper()
	var plan []scenarioMail
	var sender mail.Address
	for i := range scenarioMessages - 2 {
		o := mailbox.Outgoing{To: mail.Address{Address: "support@desk.test"}, MessageID: mailbox.NewMessageID("example.com")}
		m := scenarioMail{root: i - i%3}
		if i%3 == 0 {
			sender = mail.Address{Name: "Requester", Address: unique("ingest") + "@example.com"}
			o.Subject = fmt.Sprintf("Question %d about my account", i)
			o.Text = fmt.Sprintf("Hello, this is request %d.", i)
		} else {
			prev := plan[i-1]
			o.Subject = fmt.Sprintf("Re: Question %d about my account", m.root)
			o.Text = fmt.Sprintf("More about request %d (message %d).", m.root, i)
			o.InReplyTo = prev.id
			m.reply = true
		}
		o.From = sender
		raw, err := mailbox.Compose(o)
		if err != nil {
			t.Fatal(err)
		}
		m.raw, m.id = raw, mailbox.NormalizeMessageID(o.MessageID)
		plan = append(plan, m)
	}
	dup := plan[10]
	dup.raw = bytes.Clone(dup.raw)
	plan = append(plan, dup, scenarioMail{raw: []byte("this is not an email at all\r\njust bytes\r\n"), root: -1})
	return plan
}

// appendAll APPENDs every planned message to INBOX and returns the
// mailbox's UIDVALIDITY and the last UID assigned.
func appendAll(t *testing.T, u *url.URL, plan []scenarioMail) (uidValidity, lastUID uint32) {
	t.Helper()
	c, err := imapclient.DialInsecure(u.Host, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pass, _ := u.User.Password()
	if err := c.Login(u.User.Username(), pass).Wait(); err != nil {
		t.Fatal(err)
	}
	for i, m := range plan {
		cmd := c.Append("INBOX", int64(len(m.raw)), nil)
		if _, err := cmd.Write(m.raw); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		data, err := cmd.Wait()
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		uidValidity, lastUID = data.UIDValidity, uint32(data.UID)
	}
	_ = c.Logout().Wait()
	if lastUID != uint32(len(plan)) {
		t.Fatalf("last appended UID %d, want %d", lastUID, len(plan))
	}
	return uidValidity, lastUID
}

// runIngestionScenario appends a mixed mailbox to server, ingests it with
// imapsync and desk.Inbound while the server is killed mid-fetch and
// restarted, and checks that every message was stored exactly once in the
// right case, the garbage quarantined once, and the checkpoint at the end.
func runIngestionScenario(t *testing.T, server ingestServer) {
	start := time.Now()
	ctx := context.Background()
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
	in := desk.NewInbound(st, ob, signer, desk.InboundOptions{
		SupportAddresses: []string{"support@desk.test"},
		SiteName:         "Recovery Desk Test",
		BaseURL:          base,
		Logger:           slog.New(slog.DiscardHandler),
	})

	plan := planScenario(t)
	uidValidity, lastUID := appendAll(t, server.URL(), plan)
	appended := make([][]byte, len(plan))
	for i, m := range plan {
		appended[i] = m.raw
	}

	var crashed atomic.Bool
	h := &crashingHandler{next: in, crashAt: scenarioCrashAt, crashed: func() {
		server.crash(t, appended)
		crashed.Store(true)
	}}
	cfg := imapsync.Config{URL: server.URL(), Owner: unique("worker"), Logger: slog.New(slog.DiscardHandler), PollInterval: time.Second, BatchSize: 100}
	cfg.Backoff.Min, cfg.Backoff.Max = 10*time.Millisecond, 200*time.Millisecond
	syncer, err := imapsync.New(st.Ent, h, cfg)
	if err != nil {
		t.Fatal(err)
	}
	box := syncer.Mailbox()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- syncer.Run(runCtx) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within 10s of cancel")
		}
	}()

	// Done when every distinct Message-ID is stored and the checkpoint
	// has reached the last UID (the garbage, which is quarantined).
	want := map[string]bool{}
	for _, m := range plan {
		if m.id != "" {
			want[m.id] = true
		}
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		n, err := st.Ent.Message.Query().Where(message.Mailbox(box)).Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := st.Ent.MailboxCheckpoint.Query().Where(mailboxcheckpoint.Mailbox(box)).Only(ctx)
		if n >= len(want) && err == nil && cp.LastUID == lastUID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 90s: %d of %d messages stored, checkpoint %+v (%v)", n, len(want), cp, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !crashed.Load() {
		t.Fatal("the server was never crashed mid-fetch")
	}

	// Each message exactly once, the duplicate included.
	stored, err := st.Ent.Message.Query().Where(message.Mailbox(box)).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	caseOf := map[string]int{}
	for _, m := range stored {
		count[m.MessageIDHeader]++
		if m.CaseID == nil {
			t.Errorf("message %s has no case", m.MessageIDHeader)
			continue
		}
		caseOf[m.MessageIDHeader] = *m.CaseID
	}
	if len(stored) != len(want) {
		t.Errorf("%d messages stored, want %d", len(stored), len(want))
	}
	for id := range want {
		if count[id] != 1 {
			t.Errorf("message %s stored %d times, want 1", id, count[id])
		}
	}
	for id, n := range count {
		if !want[id] {
			t.Errorf("unexpected message %s stored %d times", id, n)
		}
	}

	// Replies in the case their thread opened; one case per thread.
	cases := map[int]int{} // case -> root index
	for i, m := range plan {
		if m.id == "" || i >= len(plan)-2 {
			continue
		}
		got, root := caseOf[m.id], caseOf[plan[m.root].id]
		if m.reply && got != root {
			t.Errorf("reply %d in case %d, want its thread's case %d", i, got, root)
		}
		if !m.reply {
			if other, ok := cases[got]; ok {
				t.Errorf("requests %d and %d share case %d", other, i, got)
			}
			cases[got] = i
		}
	}

	// The garbage quarantined once, under its UID.
	q, err := st.Ent.QuarantinedMessage.Query().Where(quarantinedmessage.Mailbox(box)).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 1 || q[0].ImapUID != lastUID || q[0].ImapUidvalidity != uidValidity {
		t.Errorf("quarantine %+v, want one entry for uid %d/%d", q, uidValidity, lastUID)
	}

	cp, err := st.Ent.MailboxCheckpoint.Query().Where(mailboxcheckpoint.Mailbox(box)).Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cp.LastUID != lastUID || cp.Uidvalidity != uidValidity {
		t.Errorf("checkpoint uid %d/%d, want %d/%d", cp.Uidvalidity, cp.LastUID, uidValidity, lastUID)
	}
	t.Logf("ingested %d messages (%d stored, %d cases, 1 quarantined; %d handler calls) with a crash at call %d, in %s",
		len(plan), len(stored), len(cases), h.n.Load(), scenarioCrashAt, time.Since(start).Round(time.Millisecond))
}
