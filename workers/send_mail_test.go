package workers_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/mailbox"
	"github.com/recoverydesk/recoverydesk/mailbox/devmail"
	"github.com/recoverydesk/recoverydesk/workers"
)

// These tests run one after another, not in parallel: every River client on
// the package database would take any test's jobs.

// bundle is a River client from workers.NewClient whose Outbox sends to
// the SMTP server at a test's address.
type bundle struct {
	st      *store.Store
	outbox  *mailbox.Outbox
	client  *river.Client[pgx.Tx]
	events  <-chan *river.Event
	stopped bool
}

func setup(t *testing.T, smtpAddr string) *bundle {
	t.Helper()
	st := testdb.Store(t)
	logger := slog.New(slog.DiscardHandler)
	cfg, err := mailbox.ParseSMTPURL("smtp://" + smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	ob, err := mailbox.NewOutbox(mailbox.OutboxConfig{
		Client: st.Ent,
		Sender: mailbox.NewSender(cfg),
		From:   mail.Address{Name: "Recovery Desk", Address: "support@desk.test"},
		Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	client, err := workers.NewClient(workers.Deps{
		Store:    st,
		Logger:   logger,
		Sessions: account.NewSessions(st.Ent, account.DefaultSessionPolicy, nil),
		Outbox:   ob,
		Evidence: desk.NewEvidence(st, ob, nil, "Recovery Desk", mustURL("http://desk.test"), desk.EvidenceOptions{}),
		Triage:   desk.NewTriage(st, ob, nil, nil, "Recovery Desk", mustURL("http://desk.test"), desk.TriageOptions{}),
	}, &workers.Options{MaxWorkers: 2})
	if err != nil {
		t.Fatal(err)
	}
	events, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobCancelled,
		river.EventKindJobFailed, river.EventKindJobSnoozed)
	b := &bundle{st: st, outbox: ob, client: client, events: events}
	t.Cleanup(func() {
		cancel()
		if !b.stopped {
			b.stop(t)
		}
		// A retryable or snoozed job would otherwise run in the next test.
		if _, err := st.Pool.Exec(context.Background(), `DELETE FROM river_job WHERE kind = 'mailbox.send'`); err != nil {
			t.Error(err)
		}
	})
	return b
}

func (b *bundle) start(t *testing.T) {
	t.Helper()
	if err := b.client.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// stop stops the client, letting running jobs finish, and fails the test
// unless it stops cleanly.
func (b *bundle) stop(t *testing.T) {
	t.Helper()
	b.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.client.Stop(ctx); err != nil {
		t.Errorf("Stop = %v, want nil", err)
	}
}

func (b *bundle) queue(t *testing.T) *ent.OutboundMail {
	t.Helper()
	var row *ent.OutboundMail
	err := b.st.InTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		var err error
		row, err = b.outbox.Queue(ctx, tx, mailbox.Mail{
			To:      mail.Address{Address: "zoe@example.org"},
			Subject: "Your password was changed",
			Text:    "Hello,\nyour password was changed just now.\n",
			Purpose: "password_changed",
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return row
}

// waitForSendJob returns the first event of the send job for row id.
func (b *bundle) waitForSendJob(t *testing.T, id int) *river.Event {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-b.events:
			var args mailbox.SendArgs
			if ev.Job.Kind != args.Kind() {
				continue
			}
			if err := json.Unmarshal(ev.Job.EncodedArgs, &args); err != nil {
				t.Fatal(err)
			}
			if args.OutboundMailID == id {
				return ev
			}
		case <-deadline:
			t.Fatalf("no event for the send job of mail %d within 30s", id)
		}
	}
}

func (b *bundle) reload(t *testing.T, id int) *ent.OutboundMail {
	t.Helper()
	row, err := b.st.Ent.OutboundMail.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return row
}

func TestSendMailDeliversOnce(t *testing.T) {
	sink := devmail.NewSink(slog.New(slog.DiscardHandler), 10)
	addr, err := sink.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	b := setup(t, addr)
	b.start(t)

	row := b.queue(t)
	ev := b.waitForSendJob(t, row.ID)
	if ev.Kind != river.EventKindJobCompleted {
		t.Fatalf("send job ended with %s (%v), want completed", ev.Kind, ev.Job.Errors)
	}
	b.stop(t)

	mails := sink.List()
	if len(mails) != 1 {
		t.Fatalf("sink holds %d mails, want 1", len(mails))
	}
	if mails[0].MessageID != row.MessageIDHeader || mails[0].Subject != "Your password was changed" {
		t.Errorf("sent Message-ID %q, Subject %q", mails[0].MessageID, mails[0].Subject)
	}
	if got := b.reload(t, row.ID); got.Status != outboundmail.StatusSent || got.Attempts != 1 {
		t.Errorf("status %s, attempts %d; want sent, 1", got.Status, got.Attempts)
	}
}

func TestSendMailCancelsOnPermanentFailure(t *testing.T) {
	b := setup(t, rejectingRelay(t, 550))
	b.start(t)

	row := b.queue(t)
	ev := b.waitForSendJob(t, row.ID)
	if ev.Kind != river.EventKindJobCancelled || ev.Job.State != rivertype.JobStateCancelled {
		t.Fatalf("send job: event %s, state %s; want cancelled", ev.Kind, ev.Job.State)
	}
	b.stop(t)
	if got := b.reload(t, row.ID); got.Status != outboundmail.StatusFailed || got.Attempts != 1 {
		t.Errorf("status %s, attempts %d; want failed, 1", got.Status, got.Attempts)
	}
}

func TestSendMailRetriesTemporaryFailure(t *testing.T) {
	b := setup(t, rejectingRelay(t, 451))
	b.start(t)

	row := b.queue(t)
	ev := b.waitForSendJob(t, row.ID)
	// River makes a retry due within seconds available at once.
	retrying := ev.Job.State == rivertype.JobStateRetryable || ev.Job.State == rivertype.JobStateAvailable
	if ev.Kind != river.EventKindJobFailed || !retrying || ev.Job.Attempt != 1 {
		t.Fatalf("send job: event %s, state %s, attempt %d; want failed, to be retried, 1", ev.Kind, ev.Job.State, ev.Job.Attempt)
	}
	b.stop(t)
	got := b.reload(t, row.ID)
	// A retry may have run before Stop; each leaves the mail deferred.
	if got.Status != outboundmail.StatusDeferred || got.Attempts < 1 {
		t.Errorf("status %s, attempts %d; want deferred, at least 1", got.Status, got.Attempts)
	}
}

func TestSendMailSnoozesWhileAnotherRunSends(t *testing.T) {
	sink := devmail.NewSink(slog.New(slog.DiscardHandler), 10)
	addr, err := sink.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	b := setup(t, addr)

	row := b.queue(t) // before Start, so the claim below comes first
	if err := b.st.Ent.OutboundMail.UpdateOneID(row.ID).SetStatus(outboundmail.StatusSending).
		SetAttempts(1).SetUpdatedAt(time.Now()).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.start(t)
	ev := b.waitForSendJob(t, row.ID)
	if ev.Kind != river.EventKindJobSnoozed {
		t.Fatalf("send job ended with %s, want snoozed", ev.Kind)
	}
	b.stop(t)
	if n := len(sink.List()); n != 0 {
		t.Errorf("sink holds %d mails while another run held the claim", n)
	}
}

func TestNewClientNeedsOutbox(t *testing.T) {
	st := testdb.Store(t)
	_, err := workers.NewClient(workers.Deps{Store: st, Logger: slog.New(slog.DiscardHandler)}, nil)
	if err == nil {
		t.Fatal("NewClient without an Outbox succeeded")
	}
}

// rejectingRelay starts an SMTP server that answers every RCPT with code.
func rejectingRelay(t *testing.T, code int) string {
	t.Helper()
	reply := &smtp.SMTPError{Code: code, Message: "not today"}
	return startRelay(t, func() smtp.Session { return rejectSession{reply} })
}

// startRelay serves SMTP on a loopback port with a session from newSession
// per connection, until the test ends; it returns the address.
func startRelay(t *testing.T, newSession func() smtp.Session) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return newSession(), nil
	}))
	srv.Domain = "localhost"
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return ln.Addr().String()
}

type rejectSession struct{ reply *smtp.SMTPError }

func (s rejectSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s rejectSession) Rcpt(string, *smtp.RcptOptions) error { return s.reply }
func (s rejectSession) Data(io.Reader) error                 { return s.reply }
func (s rejectSession) Reset()                               {}
func (s rejectSession) Logout() error                        { return nil }
