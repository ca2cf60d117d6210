package desk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/microcosm-cc/bluemonday"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk/mailtemplates"
	"github.com/recoverydesk/recoverydesk/ent/attachment"
	"github.com/recoverydesk/recoverydesk/ent/caseparticipant"
	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// InboundOptions configure an Inbound.
type InboundOptions struct {
	// SupportAddresses are our own addresses; X-Loop naming one of them
	// marks our own mail come back.
	SupportAddresses []string
	// MaxAttachmentBytes caps the attachment bytes kept per message
	// (0: mailbox.DefaultMaxAttachmentBytes).
	MaxAttachmentBytes int64
	// SiteName and BaseURL fill the acknowledgement and its status link.
	SiteName string
	BaseURL  *url.URL
	// SLA sets the deadlines of the cases mail opens (zero: DefaultSLA).
	SLA SLAPolicy
	// Lanes is how many transactions store a batch at once (0:
	// DefaultLanes). Each holds a database connection while it runs.
	Lanes int
	// Now defaults to time.Now; Logger to slog.Default().
	Now    func() time.Time
	Logger *slog.Logger
}

// DefaultLanes: more lanes than cores pays, since each lane mostly waits
// on PostgreSQL round trips (bench ingest measured 2 → 4 lanes at +60%
// on 2 cores).
const DefaultLanes = 4

func (o InboundOptions) lanes() int {
	if o.Lanes > 0 {
		return o.Lanes
	}
	return DefaultLanes
}

// Inbound stores fetched emails in their cases: it threads replies, opens
// cases for new mail with an acknowledgement, records bounces of our own
// mail and quarantines what it cannot parse. It implements
// mailbox.MessageHandler.
type Inbound struct {
	st     *store.Store
	outbox *mailbox.Outbox
	signer *mailbox.MessageIDSigner
	opts   InboundOptions
	tmpl   *mailtemplates.Set
	html   *bluemonday.Policy
	log    *slog.Logger
}

var _ mailbox.MessageHandler = (*Inbound)(nil)

// NewInbound returns an Inbound. It panics only if the embedded mail
// templates do not parse, which the tests rule out.
func NewInbound(st *store.Store, outbox *mailbox.Outbox, signer *mailbox.MessageIDSigner, opts InboundOptions) *Inbound {
	tmpl, err := mailtemplates.Parse()
	if err != nil {
		panic(err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Inbound{st: st, outbox: outbox, signer: signer, opts: opts, tmpl: tmpl, html: mailbox.HTMLPolicy(), log: log}
}

// unstorableError marks a message that can never be stored as it is (it
// does not parse, or the database rejects its data): it goes to
// quarantine instead of blocking the mailbox.
type unstorableError struct{ err error }

func (e *unstorableError) Error() string { return e.err.Error() }
func (e *unstorableError) Unwrap() error { return e.err }

// errNoSender refuses to open a case for mail without a sender address.
var errNoSender = errors.New("desk: no sender address to open a case for")

// errAlreadyStored rolls back a transaction that lost the race to store
// the same message to another worker.
var errAlreadyStored = errors.New("message already stored")

// HandleMessage stores f once: a bounce updates the mail it reports on, a
// reply joins its case, anything else opens a case. A message that cannot
// be parsed or stored is quarantined and nil returned, so the mailbox moves
// on; only database trouble is returned.
func (in *Inbound) HandleMessage(ctx context.Context, f mailbox.Fetched) error {
	err := in.process(ctx, f)
	var ue *unstorableError
	if errors.As(err, &ue) {
		return in.quarantine(ctx, f, ue.err)
	}
	if err != nil {
		return fmt.Errorf("desk: handle %s uid %d/%d: %w", f.Mailbox, f.UIDValidity, f.UID, err)
	}
	return nil
}

// process is HandleMessage without the quarantine, shared with Retry.
func (in *Inbound) process(ctx context.Context, f mailbox.Fetched) error {
	m, err := in.prepare(f)
	if err != nil {
		return err
	}
	dup, err := in.st.Ent.Message.Query().
		Where(message.Mailbox(f.Mailbox), message.MessageIDHeader(m.msgID)).
		Exist(ctx)
	if err != nil {
		return fmt.Errorf("look up %s: %w", m.msgID, err)
	}
	if dup {
		return nil
	}
	for try := 1; ; try++ {
		err = in.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error { return in.storeTx(ctx, tx, m) })
		if err == nil || !isReferenceCollision(err) || try == maxReferenceTries {
			break
		}
	}
	var pe *pgconn.PgError
	switch {
	case errors.Is(err, errAlreadyStored):
		return nil
	case errors.As(err, &pe) && (strings.HasPrefix(pe.Code, "22") || strings.HasPrefix(pe.Code, "54")):
		// A data exception (bad encoding, value too long) or a limit
		// exceeded (an address too long for its index) fails the same way
		// on every try.
		return &unstorableError{err}
	}
	return err
}

// clean makes text storable in PostgreSQL: valid UTF-8 without NUL bytes.
func clean(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// incoming is one parsed email on its way into a case.
type incoming struct {
	f     mailbox.Fetched
	p     *mailbox.Parsed
	msgID string
	class mailbox.Class
	// from is the normalised From address: who wrote, for the participant
	// rules. requester is where answers go: Reply-To when present.
	from      string
	requester mail.Address
	// html is the sanitised HTML body ("" without one).
	html string
	// bounce is the delivery report the message is, when isBounce.
	bounce   mailbox.Bounce
	isBounce bool
}

// prepare does the work that needs no database: parsing, classifying,
// reading a bounce and sanitising the HTML. An unparseable message gives
// an unstorableError.
func (in *Inbound) prepare(f mailbox.Fetched) (incoming, error) {
	p, err := mailbox.Parse(f.Raw, mailbox.ParseOptions{MaxAttachmentBytes: in.opts.MaxAttachmentBytes})
	if err != nil {
		return incoming{}, &unstorableError{err}
	}
	m := incoming{f: f, p: p, msgID: p.MessageID, from: account.NormalizeEmail(p.From.Address), requester: p.From}
	if m.msgID == "" {
		m.msgID = mailbox.DerivedMessageID(f.Raw, p.From.Address, p.Get("Date"), p.Subject)
	}
	if len(p.ReplyTo) > 0 && p.ReplyTo[0].Address != "" {
		m.requester = p.ReplyTo[0]
	}
	m.class = mailbox.Classify(p, "", mailbox.ClassifyOptions{Ours: in.opts.SupportAddresses})
	m.bounce, m.isBounce = bounceOf(p, m.class)
	if p.HTML != "" && !m.isBounce {
		m.html = clean(in.html.Sanitize(p.HTML))
	}
	return m, nil
}

// threadInput is what threading reads of m.
func threadInput(m incoming) ThreadInput {
	return ThreadInput{
		MessageID:  m.msgID,
		InReplyTo:  m.p.Get("In-Reply-To"),
		References: m.p.Values("References"),
		Subject:    m.p.Subject,
		Body:       m.p.Text,
		From:       m.from,
	}
}

// storeTx records m in tx: a bounce updates the mail it reports on, an
// unreadable bounce is dropped, a reply joins its case and anything else
// opens one. The caller has checked m is not stored yet.
func (in *Inbound) storeTx(ctx context.Context, tx *store.Tx, m incoming) error {
	if m.isBounce {
		return in.bounceTx(ctx, tx, m.msgID, m.bounce)
	}
	if m.class.Bounce {
		in.log.InfoContext(ctx, "desk: dropped unreadable bounce", "message_id", m.msgID, "reason", m.class.Reason)
		return nil
	}
	d, err := Thread(ctx, threadInput(m), NewThreadLookup(tx.Ent), in.signer)
	if err != nil {
		return err
	}
	if d.New {
		return in.openCase(ctx, tx, m)
	}
	return in.joinCase(ctx, tx, m, d)
}

// openCase opens a case for m with its requester as participant and, when
// hygiene and the hourly limit allow, queues the acknowledgement.
func (in *Inbound) openCase(ctx context.Context, tx *store.Tx, m incoming) error {
	if m.requester.Address == "" {
		// Checked before any write: a batch quarantines the message and
		// carries on in the same transaction.
		return &unstorableError{errNoSender}
	}
	now := in.opts.Now()
	ref, err := NewReference()
	if err != nil {
		return err
	}
	token, hash, err := newStatusToken()
	if err != nil {
		return err
	}
	subject := clean(strings.TrimSpace(m.p.Subject))
	if subject == "" {
		subject = "(no subject)"
	}
	emailNorm := account.NormalizeEmail(m.requester.Address)
	kind := CaseKind(m.p.Subject, m.p.Text)
	create := tx.Ent.SupportCase.Create().
		SetReference(ref).
		SetKind(kind).
		SetStatus(supportcase.StatusNew).
		SetSubject(subject).
		SetRequesterName(cleanName(m.requester.Name)).
		SetRequesterEmail(clean(m.requester.Address)).
		SetRequesterEmailNormalized(clean(emailNorm)).
		SetStatusTokenHash(hash).
		SetLastActivityAt(now).
		SetCreatedAt(now).
		SetUpdatedAt(now)
	stampDeadlines(create, in.opts.SLA.withDefaults(), kind, now)
	c, err := create.Save(ctx)
	if err != nil {
		return fmt.Errorf("create case: %w", err)
	}
	if err := in.addParticipant(ctx, tx, c.ID, emailNorm, caseparticipant.RoleRequester, now); err != nil {
		return err
	}
	if err := in.insertMessage(ctx, tx, c.ID, m, now); err != nil {
		return err
	}
	details := map[string]any{"channel": "email", "message_id": m.msgID}
	if m.class.Reason != "" {
		details["auto_submitted"] = m.class.Reason
	}
	if err := caseEvent(ctx, tx, c.ID, nil, "case_opened", details, now); err != nil {
		return err
	}
	if m.class.NoAutoReply() {
		return nil
	}
	if c.Kind == supportcase.KindRecovery {
		EnqueueEvidence(tx, c.ID, true)
	}
	return in.acknowledge(ctx, tx, c.ID, ref, token, m, now)
}

// joinCase adds m to the case Thread chose. A new address that threaded
// by its headers or our marker (it has seen our mail, e.g. someone in Cc)
// becomes a cc participant; the subject-tag rule only admits participants
// anyway. The status stays: staff decide what a reply means.
func (in *Inbound) joinCase(ctx context.Context, tx *store.Tx, m incoming, d ThreadDecision) error {
	now := in.opts.Now()
	if err := in.insertMessage(ctx, tx, d.CaseID, m, now); err != nil {
		return err
	}
	if m.from != "" {
		// A participant already there (the requester, say) keeps its role:
		// the insert does nothing on conflict.
		if err := in.addParticipant(ctx, tx, d.CaseID, m.from, caseparticipant.RoleCc, now); err != nil {
			return err
		}
	}
	// One statement touches the case and says its kind (ent's UpdateOne
	// would re-read the row inside a savepoint).
	var kind supportcase.Kind
	err := tx.Pgx.QueryRow(ctx, `UPDATE cases SET last_activity_at = $1, updated_at = $1 WHERE id = $2 RETURNING kind`, now, d.CaseID).Scan(&kind)
	if err != nil {
		return fmt.Errorf("touch case %d: %w", d.CaseID, err)
	}
	recovery := kind == supportcase.KindRecovery
	if recovery && !m.class.NoAutoReply() {
		EnqueueEvidence(tx, d.CaseID, false)
	}
	return caseEvent(ctx, tx, d.CaseID, nil, "requester_replied",
		map[string]any{"from": m.from, "rule": d.Rule, "message_id": m.msgID}, now)
}

// addParticipant adds address to the case unless it is there already.
func (in *Inbound) addParticipant(ctx context.Context, tx *store.Tx, caseID int, address string, role caseparticipant.Role, now time.Time) error {
	err := tx.Ent.CaseParticipant.Create().
		SetCaseID(caseID).
		SetEmailNormalized(clean(address)).
		SetRole(role).
		SetCreatedAt(now).
		OnConflictColumns(caseparticipant.FieldCaseID, caseparticipant.FieldEmailNormalized).
		DoNothing().
		Exec(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("add participant to case %d: %w", caseID, err)
	}
	return nil
}

// insertMessage stores m as a public inbound message of the case, with its
// attachments; attachments too large to keep are listed in a case event.
// Losing the race to another worker storing the same message gives
// errAlreadyStored, which rolls everything back.
func (in *Inbound) insertMessage(ctx context.Context, tx *store.Tx, caseID int, m incoming, now time.Time) error {
	p := m.p
	create := tx.Ent.Message.Create().
		SetCaseID(caseID).
		SetMailbox(m.f.Mailbox).
		SetMessageIDHeader(clean(m.msgID)).
		SetReferences(cleanAll(p.References)).
		SetDirection(message.DirectionInbound).
		SetVisibility(message.VisibilityPublic).
		SetChannel(message.ChannelEmail).
		SetFromAddress(clean(p.From.Address)).
		SetFromName(cleanName(p.From.Name)).
		SetTo(addresses(p.To)).
		SetCc(addresses(p.Cc)).
		SetSubject(clean(p.Subject)).
		SetBodyText(clean(p.Text)).
		SetRaw(inlineBytes(m.f.Raw)).
		SetImapUID(m.f.UID).
		SetImapUidvalidity(m.f.UIDValidity).
		SetAutoSubmitted(m.class.NoAutoReply()).
		SetReceivedAt(now).
		SetCreatedAt(now)
	if p.InReplyTo != "" {
		create.SetInReplyTo(clean(p.InReplyTo))
	}
	if m.html != "" {
		create.SetBodyHTML(m.html)
	}
	id, err := create.
		OnConflictColumns(message.FieldMailbox, message.FieldMessageIDHeader).
		DoNothing().
		ID(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return errAlreadyStored
	}
	if err != nil {
		return fmt.Errorf("store message %s: %w", m.msgID, err)
	}
	if len(m.f.Raw) > store.LargeBytea {
		if err := tx.SetLargeBytea(ctx, message.Table, message.FieldRaw, id, m.f.Raw); err != nil {
			return fmt.Errorf("store message %s: %w", m.msgID, err)
		}
	}
	for _, a := range p.Attachments {
		data := a.Data
		if data == nil {
			data = []byte{}
		}
		ct := a.ContentType
		if ct == "" {
			ct = attachment.DefaultContentType
		}
		row, err := tx.Ent.Attachment.Create().
			SetMessageID(id).
			SetFilename(clean(a.Filename)).
			SetContentType(clean(ct)).
			SetSize(a.Size).
			SetSha256(a.SHA256).
			SetData(inlineBytes(data)).
			SetCreatedAt(now).
			Save(ctx)
		if err == nil && len(data) > store.LargeBytea {
			err = tx.SetLargeBytea(ctx, attachment.Table, attachment.FieldData, row.ID, data)
		}
		if err != nil {
			return fmt.Errorf("store attachment %q of %s: %w", a.Filename, m.msgID, err)
		}
	}
	dropped := droppedParts(p, nil)
	if len(dropped) == 0 {
		return nil
	}
	return caseEvent(ctx, tx, caseID, nil, "attachments_dropped", map[string]any{"message_id": m.msgID, "attachments": dropped}, now)
}

// inlineBytes is b when it is small enough to go in the INSERT as a
// parameter; a larger value (the raw message, a kept attachment) goes in
// afterwards with store.Tx.SetLargeBytea, which does not copy it in
// memory.
func inlineBytes(b []byte) []byte {
	if len(b) > store.LargeBytea {
		return []byte{}
	}
	return b
}

// droppedParts lists what the parser left out of p and of the messages
// forwarded in it, for staff to see.
func droppedParts(p *mailbox.Parsed, out []map[string]any) []map[string]any {
	for _, d := range p.Dropped {
		out = append(out, map[string]any{
			"filename": clean(d.Filename), "content_type": clean(d.ContentType),
			"size": d.Size, "sha256": d.SHA256, "reason": d.Reason,
		})
	}
	for _, n := range p.Nested {
		out = droppedParts(n, out)
	}
	return out
}

// addresses renders a list as stored on Message: "Name <a@b>" or "a@b".
func addresses(l []mail.Address) []string {
	out := make([]string, 0, len(l))
	for _, a := range l {
		if name := cleanName(a.Name); name == "" {
			out = append(out, clean(a.Address))
		} else {
			out = append(out, clean((&mail.Address{Name: name, Address: a.Address}).String()))
		}
	}
	return out
}

// cleanAll applies clean to every element.
func cleanAll(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = clean(s)
	}
	return out
}
