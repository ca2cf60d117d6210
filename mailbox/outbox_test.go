package mailbox_test

import (
	"context"
	"errors"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

var support = mail.Address{Name: "Recovery Desk", Address: "support@Desk.test"}

// newOutbox returns an Outbox on the package database sending to the relay
// at addr ("" for none); now, if set, replaces the clock.
func newOutbox(t *testing.T, st *store.Store, addr string, now func() time.Time) *mailbox.Outbox {
	t.Helper()
	cfg := mailbox.OutboxConfig{Client: st.Ent, From: support, Logger: quietLogger(), Now: now}
	if addr != "" {
		cfg.Sender = sender(t, "smtp://"+addr)
	}
	ob, err := mailbox.NewOutbox(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ob
}

func testMail() mailbox.Mail {
	return mailbox.Mail{
		To:         mail.Address{Name: "Zoë", Address: "zoe@example.org"},
		Subject:    "Your recovery request [RD-7K3F9Q]",
		Text:       "Hello Zoë,\nwe received your request.\n",
		HTML:       "<p>Hello Zoë</p>",
		Purpose:    "case_received",
		InReplyTo:  "first@example.org",
		References: []string{"root@example.org", "first@example.org"},
	}
}

// queue queues m in a committed transaction.
func queue(t *testing.T, st *store.Store, ob *mailbox.Outbox, m mailbox.Mail) *ent.OutboundMail {
	t.Helper()
	var row *ent.OutboundMail
	err := st.InTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		var err error
		row, err = ob.Queue(ctx, tx, m)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return row
}

// sendJobs counts the send jobs for the row id, whatever their state.
func sendJobs(t *testing.T, st *store.Store, id int) (count, maxAttempts int) {
	t.Helper()
	err := st.Pool.QueryRow(context.Background(),
		`SELECT count(*), coalesce(max(max_attempts), 0) FROM river_job WHERE kind = 'mailbox.send' AND args->>'outbound_mail_id' = $1`,
		strconv.Itoa(id)).Scan(&count, &maxAttempts)
	if err != nil {
		t.Fatal(err)
	}
	return count, maxAttempts
}

func reload(t *testing.T, st *store.Store, id int) *ent.OutboundMail {
	t.Helper()
	row, err := st.Ent.OutboundMail.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return row
}

func TestQueueCommitsRowAndJob(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	row := queue(t, st, newOutbox(t, st, "", nil), testMail())

	got := reload(t, st, row.ID)
	if got.Status != outboundmail.StatusQueued || got.Attempts != 0 {
		t.Errorf("status %s, attempts %d; want queued, 0", got.Status, got.Attempts)
	}
	if got.ToAddress != "zoe@example.org" || got.FromAddress != "support@Desk.test" || got.Purpose != "case_received" {
		t.Errorf("to %q, from %q, purpose %q", got.ToAddress, got.FromAddress, got.Purpose)
	}
	if !strings.HasSuffix(got.MessageIDHeader, "@desk.test") || strings.ContainsAny(got.MessageIDHeader, "<>") {
		t.Errorf("Message-ID %q: want a bare ID at the lower-cased From domain", got.MessageIDHeader)
	}
	if got.Headers["Auto-Submitted"] != "auto-generated" {
		t.Errorf("headers %v lack Auto-Submitted: auto-generated", got.Headers)
	}
	if n, maxAttempts := sendJobs(t, st, row.ID); n != 1 || maxAttempts != 10 {
		t.Errorf("%d send jobs with max_attempts %d, want 1 with 10", n, maxAttempts)
	}
}

func TestQueueRollsBackWithTransaction(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	ob := newOutbox(t, st, "", nil)
	boom := errors.New("the case could not be saved")
	var id int
	err := st.InTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		row, err := ob.Queue(ctx, tx, testMail())
		if err != nil {
			return err
		}
		id = row.ID
		if n, _ := sendJobs(t, st, id); n != 0 {
			t.Errorf("the job is visible outside the open transaction")
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want %v", err, boom)
	}
	if id == 0 {
		t.Fatal("Queue returned no row")
	}
	if _, err := st.Ent.OutboundMail.Get(context.Background(), id); !ent.IsNotFound(err) {
		t.Errorf("row %d after rollback: err = %v, want not found", id, err)
	}
	if n, _ := sendJobs(t, st, id); n != 0 {
		t.Errorf("%d send jobs after rollback, want 0", n)
	}
}

func TestQueueRejectsInvalidMail(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	ob := newOutbox(t, st, "", nil)
	tests := []struct {
		name  string
		edit  func(m *mailbox.Mail)
		field string
	}{
		{"no To", func(m *mailbox.Mail) { m.To = mail.Address{} }, "To"},
		{"To with a name inside", func(m *mailbox.Mail) { m.To.Address = "Zoë <zoe@example.org>" }, "To"},
		{"no Subject", func(m *mailbox.Mail) { m.Subject = "  " }, "Subject"},
		{"LF in Subject", func(m *mailbox.Mail) { m.Subject = "Hello\nBcc: victim@example.org" }, "Subject"},
		{"CR in Subject", func(m *mailbox.Mail) { m.Subject = "Hello\rthere" }, "Subject"},
		{"no Text", func(m *mailbox.Mail) { m.Text = "\n" }, "Text"},
		{"no Purpose", func(m *mailbox.Mail) { m.Purpose = "" }, "Purpose"},
		{"bad InReplyTo", func(m *mailbox.Mail) { m.InReplyTo = "<a@b>" }, "InReplyTo"},
		{"bad References", func(m *mailbox.Mail) { m.References = []string{"ok@x", "a b@x"} }, "References[1]"},
		{"header Compose owns", func(m *mailbox.Mail) { m.Headers = map[string]string{"Subject": "x"} }, "Subject"},
		{"header with CRLF", func(m *mailbox.Mail) { m.Headers = map[string]string{"X-Tag": "a\r\nb"} }, "X-Tag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testMail()
			tt.edit(&m)
			err := st.InTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
				_, err := ob.Queue(ctx, tx, m)
				return err
			})
			if !errors.Is(err, mailbox.ErrInvalidMail) {
				t.Fatalf("Queue = %v, want ErrInvalidMail", err)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q does not name %s", err, tt.field)
			}
		})
	}
}

func TestDeliverToSink(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	sink, addr := startSink(t)
	ob := newOutbox(t, st, addr, nil)
	row := queue(t, st, ob, testMail())

	for range 2 { // the second run finds the mail sent and sends nothing
		if err := ob.Deliver(context.Background(), row.ID, false); err != nil {
			t.Fatal(err)
		}
	}

	got := reload(t, st, row.ID)
	if got.Status != outboundmail.StatusSent || got.SentAt == nil || got.Attempts != 1 {
		t.Errorf("status %s, sent_at %v, attempts %d; want sent, set, 1", got.Status, got.SentAt, got.Attempts)
	}
	mails := sink.List()
	if len(mails) != 1 {
		t.Fatalf("sink holds %d mails, want 1", len(mails))
	}
	m := mails[0]
	if m.MessageID != row.MessageIDHeader {
		t.Errorf("Message-ID %q, want the queued %q", m.MessageID, row.MessageIDHeader)
	}
	if m.Subject != "Your recovery request [RD-7K3F9Q]" || !strings.Contains(m.To, "zoe@example.org") {
		t.Errorf("Subject %q, To %q", m.Subject, m.To)
	}
	if !strings.Contains(m.From, "Recovery Desk") || m.EnvelopeFrom != "support@Desk.test" {
		t.Errorf("From %q, envelope from %q", m.From, m.EnvelopeFrom)
	}
	if !slices.Equal(m.EnvelopeTo, []string{"zoe@example.org"}) {
		t.Errorf("envelope to %v", m.EnvelopeTo)
	}
	if m.InReplyTo != "first@example.org" || !slices.Equal(m.References, []string{"root@example.org", "first@example.org"}) {
		t.Errorf("In-Reply-To %q, References %v", m.InReplyTo, m.References)
	}
	if v, _ := m.Header("Auto-Submitted"); v != "auto-generated" {
		t.Errorf("Auto-Submitted = %q, want auto-generated", v)
	}
	if !strings.Contains(m.Text, "we received your request") || !strings.Contains(m.HTML, "<p>Hello Zoë</p>") {
		t.Errorf("bodies: text %q, html %q", m.Text, m.HTML)
	}
}

func TestDeliverCaseReplyIsNotAutoSubmitted(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	sink, addr := startSink(t)
	ob := newOutbox(t, st, addr, nil)
	m := testMail()
	m.Purpose = mailbox.PurposeCaseReply
	row := queue(t, st, ob, m)
	if err := ob.Deliver(context.Background(), row.ID, false); err != nil {
		t.Fatal(err)
	}
	mails := sink.List()
	if len(mails) != 1 {
		t.Fatalf("sink holds %d mails, want 1", len(mails))
	}
	if v, ok := mails[0].Header("Auto-Submitted"); ok {
		t.Errorf("an agent's reply carries Auto-Submitted: %s", v)
	}
}

func TestDeliverConcurrentRunsSendOnce(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	sink, addr := startSink(t)
	ob := newOutbox(t, st, addr, nil)
	row := queue(t, st, ob, testMail())

	const runs = 5
	errs := make([]error, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() { errs[i] = ob.Deliver(context.Background(), row.ID, false) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil && !errors.Is(err, mailbox.ErrInProgress) {
			t.Errorf("run %d: %v", i, err)
		}
	}
	if n := len(sink.List()); n != 1 {
		t.Errorf("sink holds %d mails, want 1", n)
	}
	if got := reload(t, st, row.ID); got.Status != outboundmail.StatusSent || got.Attempts != 1 {
		t.Errorf("status %s, attempts %d; want sent, 1", got.Status, got.Attempts)
	}
}

func TestDeliverRejected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		code      int
		final     bool
		status    outboundmail.Status
		permanent bool
	}{
		{"550", 550, false, outboundmail.StatusFailed, true},
		{"451", 451, false, outboundmail.StatusDeferred, false},
		{"451 on the last attempt", 451, true, outboundmail.StatusFailed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := testdb.Store(t)
			rec := &recorder{rcptErr: &smtp.SMTPError{Code: tt.code, Message: "not today"}}
			ob := newOutbox(t, st, serve(t, rec, nil, false), nil)
			row := queue(t, st, ob, testMail())

			err := ob.Deliver(context.Background(), row.ID, tt.final)
			if err == nil {
				t.Fatal("Deliver succeeded against a rejecting relay")
			}
			if got := errors.Is(err, mailbox.ErrPermanent); got != tt.permanent {
				t.Errorf("errors.Is(%v, ErrPermanent) = %v, want %v", err, got, tt.permanent)
			}
			got := reload(t, st, row.ID)
			if got.Status != tt.status || got.Attempts != 1 {
				t.Errorf("status %s, attempts %d; want %s, 1", got.Status, got.Attempts, tt.status)
			}
			if got.LastError == nil || !strings.Contains(*got.LastError, strconv.Itoa(tt.code)) {
				t.Errorf("last_error %v does not carry the reply code %d", got.LastError, tt.code)
			}

			// The next attempt retries a deferred mail and refuses a failed one.
			err = ob.Deliver(context.Background(), row.ID, false)
			again := reload(t, st, row.ID)
			if tt.status == outboundmail.StatusFailed {
				if !errors.Is(err, mailbox.ErrPermanent) || again.Attempts != 1 {
					t.Errorf("after failure: Deliver = %v, attempts %d; want ErrPermanent, 1", err, again.Attempts)
				}
			} else if err == nil || errors.Is(err, mailbox.ErrPermanent) || again.Attempts != 2 {
				t.Errorf("after deferral: Deliver = %v, attempts %d; want a temporary error, 2", err, again.Attempts)
			}
			if datas, _ := rec.received(); len(datas) != 0 {
				t.Errorf("%d messages delivered despite the rejection", len(datas))
			}
		})
	}
}

func TestDeliverTakesOverStaleClaim(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	sink, addr := startSink(t)
	row := queue(t, st, newOutbox(t, st, addr, nil), testMail())
	// A worker claimed the mail and died.
	claimedAt := time.Now()
	if err := st.Ent.OutboundMail.UpdateOneID(row.ID).SetStatus(outboundmail.StatusSending).
		SetAttempts(1).SetUpdatedAt(claimedAt).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}

	fresh := newOutbox(t, st, addr, func() time.Time { return claimedAt.Add(time.Minute) })
	if err := fresh.Deliver(context.Background(), row.ID, false); !errors.Is(err, mailbox.ErrInProgress) {
		t.Fatalf("Deliver with a fresh claim = %v, want ErrInProgress", err)
	}
	if n := len(sink.List()); n != 0 {
		t.Fatalf("sink holds %d mails while another run holds the claim", n)
	}

	later := claimedAt.Add(mailbox.DefaultClaimTimeout + time.Minute)
	stale := newOutbox(t, st, addr, func() time.Time { return later })
	if err := stale.Deliver(context.Background(), row.ID, false); err != nil {
		t.Fatal(err)
	}
	if n := len(sink.List()); n != 1 {
		t.Errorf("sink holds %d mails, want 1", n)
	}
	if got := reload(t, st, row.ID); got.Status != outboundmail.StatusSent || got.Attempts != 2 {
		t.Errorf("status %s, attempts %d; want sent, 2", got.Status, got.Attempts)
	}
}

func TestDeliverMissingRow(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	_, addr := startSink(t)
	err := newOutbox(t, st, addr, nil).Deliver(context.Background(), 1<<40, false)
	if !errors.Is(err, mailbox.ErrPermanent) || !ent.IsNotFound(err) {
		t.Errorf("Deliver = %v, want ErrPermanent wrapping not found", err)
	}
}

func TestNewOutboxRejectsBadFrom(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	_, err := mailbox.NewOutbox(mailbox.OutboxConfig{Client: st.Ent, From: mail.Address{Name: "Desk"}})
	if err == nil || !strings.Contains(err.Error(), "From") {
		t.Errorf("NewOutbox without a From address = %v, want an error naming From", err)
	}
}
