package mailbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/internal/config"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// The outbox is the only way the product sends mail. Queue writes an
// OutboundMail row and its SendArgs job in the caller's transaction, so a
// state change and the mails it causes commit together. The send job calls
// Deliver, which claims the row (queued|deferred → sending) with one
// conditional UPDATE, so two runs of the job never both talk to the relay,
// then records sent, deferred or failed.
//
// A claim older than OutboxConfig.ClaimTimeout belongs to a worker that
// died mid-send (River's rescuer retries such jobs after an hour); a later
// attempt takes it over. That is the one case where a mail can go out twice:
// SMTP gives no way to ask the relay whether it already has the message.

// PurposeCaseReply is the purpose of a reply an agent wrote on a case. Every
// other purpose is machine-written and gets "Auto-Submitted: auto-generated"
// (RFC 3834), so well-behaved auto-responders do not answer it.
const PurposeCaseReply = "case_reply"

// DefaultClaimTimeout is OutboxConfig.ClaimTimeout's default.
const DefaultClaimTimeout = 10 * time.Minute

// ErrPermanent is wrapped by Deliver's error when retrying cannot help: the
// relay answered 5xx, the row is gone, or it was already marked failed.
// The send worker cancels the job on it.
var ErrPermanent = errors.New("mailbox: permanent delivery failure")

// ErrInProgress is wrapped by Deliver's error when another run holds a fresh
// claim on the mail; the send worker tries again later, when the mail is
// sent or the claim has gone stale.
var ErrInProgress = errors.New("mailbox: mail is being sent by another worker")

// ErrInvalidMail is wrapped by Queue's error for a Mail that cannot be sent;
// the message names the bad field.
var ErrInvalidMail = errors.New("mailbox: invalid mail")

// SendArgs is the job that delivers one OutboundMail row.
type SendArgs struct {
	OutboundMailID int `json:"outbound_mail_id"`
}

// Kind names the job for River.
func (SendArgs) Kind() string { return "mailbox.send" }

// InsertOpts retries for about four hours with River's backoff (attempt⁴
// seconds), long enough to get past greylisting and short relay outages.
// Jobs are unique per row while not cancelled or discarded, so a mail is
// never queued twice, yet a failed one can be re-sent by hand.
func (SendArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       river.QueueDefault,
		MaxAttempts: 10,
		UniqueOpts:  river.UniqueOpts{ByArgs: true},
	}
}

// OutboxConfig configures NewOutbox.
type OutboxConfig struct {
	// Client reads and updates rows in Deliver (Queue uses the
	// transaction's client instead).
	Client *ent.Client
	// Sender delivers; it may be nil in a process that only queues.
	Sender *Sender
	// From is the author of every mail and, bare, the envelope sender
	// that bounces return to: Name is the site name, Address the support
	// address.
	From mail.Address
	// Logger records each delivery outcome; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ClaimTimeout is how old a "sending" claim must be before another
	// attempt may take it over; 0 means DefaultClaimTimeout. A send is
	// cut off at half of it, so a live claim is never taken over.
	ClaimTimeout time.Duration
	// MessageID makes the Message-ID for a domain; nil means NewMessageID.
	MessageID func(domain string) string
}

// Outbox queues mail in transactions and delivers it from the send job.
// It is safe for concurrent use.
type Outbox struct {
	client       *ent.Client
	sender       *Sender
	from         mail.Address
	log          *slog.Logger
	now          func() time.Time
	claimTimeout time.Duration
	messageID    func(string) string
}

// NewOutbox returns an Outbox; it fails when From is not a bare address.
func NewOutbox(cfg OutboxConfig) (*Outbox, error) {
	if cfg.Client == nil {
		return nil, errors.New("mailbox: outbox: Client is nil")
	}
	if err := checkAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("mailbox: outbox: From: %w", err)
	}
	o := &Outbox{
		client: cfg.Client, sender: cfg.Sender, from: cfg.From, log: cfg.Logger,
		now: cfg.Now, claimTimeout: cfg.ClaimTimeout, messageID: cfg.MessageID,
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.claimTimeout <= 0 {
		o.claimTimeout = DefaultClaimTimeout
	}
	if o.messageID == nil {
		o.messageID = NewMessageID
	}
	return o, nil
}

// NewOutboxFromConfig builds the process's Outbox from its configuration:
// From is SITE_NAME <SUPPORT_ADDRESS> and the Sender talks to SMTP_URL.
// Without SMTP_URL the Outbox can queue but not deliver.
func NewOutboxFromConfig(client *ent.Client, cfg *config.Config, logger *slog.Logger) (*Outbox, error) {
	oc := OutboxConfig{
		Client: client,
		From:   mail.Address{Name: cfg.SiteName, Address: cfg.SupportAddress},
		Logger: logger,
	}
	if cfg.SMTPURL != nil {
		sc, err := SMTPConfigFromURL(cfg.SMTPURL)
		if err != nil {
			return nil, err
		}
		oc.Sender = NewSender(sc)
	}
	return NewOutbox(oc)
}

// Mail is one message to queue.
type Mail struct {
	// To is the recipient; only the bare address is stored and used.
	To mail.Address
	// Subject is required and must be one line.
	Subject string
	// Text is the required plain-text body; HTML an optional alternative.
	Text, HTML string
	// Purpose says what the mail is for ("password_changed",
	// PurposeCaseReply, ...); it decides Auto-Submitted.
	Purpose string
	// CaseID and UserID link the mail to its case and account, if any.
	CaseID, UserID *int
	// InReplyTo and References are message IDs without angle brackets.
	InReplyTo  string
	References []string
	// MessageID, without angle brackets, replaces the outbox's own
	// Message-ID (e.g. a signed one, so replies thread to their case).
	MessageID string
	// Headers are extra fields; an explicit Auto-Submitted wins over the
	// default one (e.g. "auto-replied" for an intake acknowledgement).
	Headers map[string]string
}

// Queue stores m as a queued OutboundMail with its Message-ID fixed now, so
// every retry sends the same one, and enqueues its SendArgs job in tx. The
// caller must return Queue's error from its InTx function, so that neither
// the row nor the job commits.
func (o *Outbox) Queue(ctx context.Context, tx *store.Tx, m Mail) (*ent.OutboundMail, error) {
	headers, err := o.validate(m)
	if err != nil {
		return nil, err
	}
	msgID := m.MessageID
	if msgID == "" {
		msgID = o.messageID(strings.ToLower(domainOf(o.from.Address)))
	}
	create := tx.Ent.OutboundMail.Create().
		SetPurpose(m.Purpose).
		SetToAddress(m.To.Address).
		SetFromAddress(o.from.Address).
		SetSubject(m.Subject).
		SetMessageIDHeader(msgID).
		SetBodyText(m.Text).
		SetHeaders(headers).
		SetStatus(outboundmail.StatusQueued).
		SetNillableCaseID(m.CaseID).
		SetNillableUserID(m.UserID)
	if m.HTML != "" {
		create.SetBodyHTML(m.HTML)
	}
	if m.InReplyTo != "" {
		create.SetInReplyTo(m.InReplyTo)
	}
	row, err := create.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("mailbox: queue %s mail to %s: %w", m.Purpose, m.To.Address, err)
	}
	tx.Enqueue(SendArgs{OutboundMailID: row.ID}, nil)
	return row, nil
}

// validate checks m and returns the extra headers to store: the caller's,
// Auto-Submitted, and References (Compose owns that field, so it travels in
// the row's headers and is taken out again in Deliver).
func (o *Outbox) validate(m Mail) (map[string]string, error) {
	invalid := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidMail, field, fmt.Sprintf(format, args...))
	}
	if err := checkAddress(mail.Address{Address: m.To.Address}); err != nil {
		return nil, invalid("To", "%v", err)
	}
	switch {
	case strings.TrimSpace(m.Subject) == "":
		return nil, invalid("Subject", "is empty")
	case strings.ContainsAny(m.Subject, "\r\n"):
		return nil, invalid("Subject", "contains a line break")
	}
	if strings.TrimSpace(m.Text) == "" {
		return nil, invalid("Text", "the plain-text body is empty")
	}
	if m.Purpose == "" || strings.ContainsAny(m.Purpose, " \t\r\n") {
		return nil, invalid("Purpose", "%q is not a word like \"password_changed\"", m.Purpose)
	}
	if m.MessageID != "" {
		if err := checkMsgID(m.MessageID); err != nil {
			return nil, invalid("MessageID", "%v", err)
		}
	}
	if m.InReplyTo != "" {
		if err := checkMsgID(m.InReplyTo); err != nil {
			return nil, invalid("InReplyTo", "%v", err)
		}
	}
	headers := make(map[string]string, len(m.Headers)+2)
	autoSubmitted := false
	for name, value := range m.Headers {
		if err := checkExtraHeader(name, value); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidMail, err)
		}
		autoSubmitted = autoSubmitted || strings.EqualFold(name, "Auto-Submitted")
		headers[name] = value
	}
	if !autoSubmitted && m.Purpose != PurposeCaseReply {
		headers["Auto-Submitted"] = "auto-generated"
	}
	if len(m.References) > 0 {
		refs := make([]string, len(m.References))
		for i, id := range m.References {
			if err := checkMsgID(id); err != nil {
				return nil, invalid(fmt.Sprintf("References[%d]", i), "%v", err)
			}
			refs[i] = "<" + id + ">"
		}
		headers["References"] = strings.Join(refs, " ")
	}
	return headers, nil
}

// outgoing rebuilds the message of row for Compose.
func (o *Outbox) outgoing(row *ent.OutboundMail) Outgoing {
	out := Outgoing{
		From:      mail.Address{Name: o.from.Name, Address: row.FromAddress},
		To:        mail.Address{Address: row.ToAddress},
		Subject:   row.Subject,
		Text:      row.BodyText,
		MessageID: row.MessageIDHeader,
		Date:      o.now(),
		Headers:   make(map[string]string, len(row.Headers)),
	}
	if row.BodyHTML != nil {
		out.HTML = *row.BodyHTML
	}
	if row.InReplyTo != nil {
		out.InReplyTo = *row.InReplyTo
	}
	for name, value := range row.Headers {
		if strings.EqualFold(name, "References") {
			for _, id := range strings.Fields(value) {
				out.References = append(out.References, strings.Trim(id, "<>"))
			}
			continue
		}
		out.Headers[name] = value
	}
	return out
}

// Deliver sends the mail with the given row ID once. final says this is the
// job's last attempt: a temporary failure then marks the mail failed too.
// It returns nil when the mail is sent (now or before), an error wrapping
// ErrPermanent when retrying cannot help, one wrapping ErrInProgress when
// another run holds the claim, and any other error for a temporary failure
// (the mail is then deferred and the job should be retried).
func (o *Outbox) Deliver(ctx context.Context, id int, final bool) error {
	if o.sender == nil {
		return fmt.Errorf("mailbox: deliver mail %d: the outbox has no Sender (SMTP_URL unset)", id)
	}
	row, err := o.claim(ctx, id)
	if errors.Is(err, errAlreadySent) {
		return nil
	}
	if err != nil {
		return err
	}

	msg, err := Compose(o.outgoing(row))
	if err == nil {
		// Half the claim timeout, so no other run takes the claim over
		// while this one may still be talking to the relay.
		sendCtx, cancel := context.WithTimeout(ctx, o.claimTimeout/2)
		err = o.sender.Send(sendCtx, row.FromAddress, []string{row.ToAddress}, msg)
		cancel()
	} else {
		err = fmt.Errorf("%w: %w", ErrPermanent, err)
	}

	// Record the outcome even if ctx has ended: the relay may have the mail.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	log := o.log.With("outbound_mail_id", row.ID, "purpose", row.Purpose, "to", row.ToAddress, "attempt", row.Attempts)
	if err == nil {
		return o.markSent(rctx, row, log)
	}
	status := outboundmail.StatusDeferred
	permanent := errors.Is(err, ErrPermanent) || IsPermanent(err)
	if permanent || final {
		status = outboundmail.StatusFailed
	}
	var n int
	uerr := untilRecorded(rctx, func() error {
		var err2 error
		n, err2 = o.client.OutboundMail.Update().
			Where(outboundmail.ID(row.ID), outboundmail.StatusEQ(outboundmail.StatusSending), outboundmail.Attempts(row.Attempts)).
			SetStatus(status).
			SetLastError(truncate(err.Error(), 2000)).
			SetUpdatedAt(o.now()).
			Save(rctx)
		return err2
	})
	if uerr != nil {
		err = errors.Join(err, fmt.Errorf("record status %s: %w", status, uerr))
	} else if n == 0 {
		log.Warn("mailbox: claim taken over by another run; its status stands", "err", err)
	}
	log.Warn("mailbox: mail not sent", "status", status, "err", err)
	if permanent && !errors.Is(err, ErrPermanent) {
		err = fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	return fmt.Errorf("mailbox: deliver mail %d: %w", row.ID, err)
}

// claim moves the row to "sending" and counts the attempt, in one
// conditional UPDATE that only one concurrent run can win, and returns the
// claimed row read in the same transaction: a claim that committed always
// comes back to this run, so losing the database just after it cannot
// leave a claim nobody holds (it would block retries for ClaimTimeout).
// It returns errAlreadySent when there is nothing left to do.
func (o *Outbox) claim(ctx context.Context, id int) (*ent.OutboundMail, error) {
	now := o.now()
	row, err := o.client.OutboundMail.UpdateOneID(id).
		Where(outboundmail.Or(
			outboundmail.StatusIn(outboundmail.StatusQueued, outboundmail.StatusDeferred),
			outboundmail.And(
				outboundmail.StatusEQ(outboundmail.StatusSending),
				outboundmail.UpdatedAtLT(now.Add(-o.claimTimeout)),
			),
		)).
		SetStatus(outboundmail.StatusSending).
		AddAttempts(1).
		SetUpdatedAt(now).
		Save(ctx)
	if err == nil {
		return row, nil
	}
	if !ent.IsNotFound(err) {
		return nil, fmt.Errorf("mailbox: deliver mail %d: claim: %w", id, err)
	}
	// Not claimable (or gone): say why.
	row, err = o.client.OutboundMail.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, fmt.Errorf("mailbox: deliver mail %d: %w: %w", id, ErrPermanent, err)
	}
	if err != nil {
		return nil, fmt.Errorf("mailbox: deliver mail %d: %w", id, err)
	}
	switch row.Status {
	case outboundmail.StatusSent, outboundmail.StatusBounced:
		return nil, errAlreadySent
	case outboundmail.StatusFailed:
		return nil, fmt.Errorf("mailbox: deliver mail %d: %w: already failed: %s", id, ErrPermanent, deref(row.LastError))
	default:
		return nil, fmt.Errorf("mailbox: deliver mail %d: %w (claimed %s)", id, ErrInProgress, row.UpdatedAt.Format(time.RFC3339))
	}
}

// markSent records a delivery. It is not fenced by the claim: the relay
// has the mail, whoever else may have claimed the row meanwhile. Failing
// to record it is retried until ctx ends (a database restart takes a
// moment): returning the error instead would retry the job and send the
// mail again once the claim went stale.
func (o *Outbox) markSent(ctx context.Context, row *ent.OutboundMail, log *slog.Logger) error {
	now := o.now()
	err := untilRecorded(ctx, func() error {
		return o.client.OutboundMail.Update().
			Where(outboundmail.ID(row.ID), outboundmail.StatusNotIn(outboundmail.StatusSent, outboundmail.StatusBounced)).
			SetStatus(outboundmail.StatusSent).
			SetSentAt(now).
			SetUpdatedAt(now).
			Exec(ctx)
	})
	if err != nil {
		// A row stuck in "sending" is the lesser harm.
		log.Error("mailbox: mail sent but its status could not be recorded", "err", err)
		return nil
	}
	log.Info("mailbox: mail sent", "message_id", row.MessageIDHeader)
	return nil
}

// untilRecorded runs record until it succeeds or ctx ends, backing off
// from 100 ms to 5 s, and returns its last error. An attempt's outcome
// must reach the row: left "sending", the mail waits for ClaimTimeout.
func untilRecorded(ctx context.Context, record func() error) error {
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		err := record()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// errAlreadySent tells Deliver that an earlier run sent the mail.
var errAlreadySent = errors.New("mailbox: mail already sent")

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
