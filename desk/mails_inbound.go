package desk

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/predicate"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// MailEmailAcknowledgement is the purpose of the automatic reply to an
// email that opened a case.
const MailEmailAcknowledgement = "email_acknowledgement"

// autoReplyPurposes are the automatic replies counted against
// mailbox.MaxAutoRepliesPerHour.
var autoReplyPurposes = []string{MailEmailAcknowledgement, MailRecoveryAcknowledgement}

// emailAckData fills email_acknowledgement.txt.
type emailAckData struct {
	ReplyMarker, CaseMarker string
	Name, Subject           string
	SiteName                string
	Reference, StatusURL    string
}

// replyPrefix matches the "Re:" prefixes of a subject we answer.
var replyPrefix = regexp.MustCompile(`(?i)^\s*((re|aw|sv|fwd?)\s*:\s*)+`)

// acknowledge queues the automatic reply to the email m that opened case
// ref, unless its requester already had MaxAutoRepliesPerHour automatic
// replies in the last hour (a robot we do not recognise as one would
// otherwise loop with us). Like the web acknowledgement it carries our
// signed Message-ID, the marker and Auto-Submitted: auto-replied.
func (in *Inbound) acknowledge(ctx context.Context, tx *store.Tx, caseID int, ref, token string, m incoming, now time.Time) error {
	sent, err := tx.Ent.OutboundMail.Query().
		Where(sentTo(m.requester.Address),
			outboundmail.PurposeIn(autoReplyPurposes...),
			outboundmail.CreatedAtGT(now.Add(-time.Hour))).
		Count(ctx)
	if err != nil {
		return fmt.Errorf("count automatic replies to %s: %w", m.requester.Address, err)
	}
	if !mailbox.AutoReplyAllowed(sent) {
		in.log.InfoContext(ctx, "desk: automatic reply limit reached", "to", m.requester.Address, "case", ref)
		return nil
	}
	subject := replyPrefix.ReplaceAllString(clean(m.p.Subject), "")
	if subject == "" {
		subject = "(no subject)"
	}
	statusURL := in.opts.BaseURL.JoinPath(PathCaseStatus, ref)
	statusURL.RawQuery = url.Values{"token": {token}}.Encode()
	subject, body, err := in.tmpl.Render(MailEmailAcknowledgement, emailAckData{
		ReplyMarker: mailbox.ReplyAboveMarker,
		CaseMarker:  in.signer.Marker(ref),
		Name:        cleanName(m.requester.Name),
		Subject:     subject,
		SiteName:    in.opts.SiteName,
		Reference:   ref,
		StatusURL:   statusURL.String(),
	})
	if err != nil {
		return err
	}
	mail := mailbox.Mail{
		To:         m.requester,
		Subject:    subject,
		Text:       body,
		Purpose:    MailEmailAcknowledgement,
		CaseID:     &caseID,
		MessageID:  in.signer.New(ref),
		InReplyTo:  m.msgID,
		References: append(append([]string{}, m.p.References...), m.msgID),
		Headers:    map[string]string{mailbox.AutoReplyHeader: mailbox.AutoReplyValue},
	}
	_, err = in.outbox.Queue(ctx, tx, mail)
	if errors.Is(err, mailbox.ErrInvalidMail) {
		// Their IDs may be too odd to repeat; the marker threads anyway.
		mail.InReplyTo, mail.References = "", nil
		_, err = in.outbox.Queue(ctx, tx, mail)
	}
	if errors.Is(err, mailbox.ErrInvalidMail) {
		// An address we cannot write to gets no reply; the case stands.
		in.log.WarnContext(ctx, "desk: no acknowledgement", "case", ref, "error", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("desk: acknowledge %s: %w", ref, err)
	}
	return nil
}

// sentTo matches mail to address, ignoring case, in the form the index
// hand_outboundmail_lower_to_address_created_at serves (ent's EqualFold is
// an ILIKE, which no index serves).
func sentTo(address string) predicate.OutboundMail {
	return func(s *sql.Selector) {
		s.Where(sql.P(func(b *sql.Builder) {
			b.WriteString("lower(").WriteString(s.C(outboundmail.FieldToAddress)).WriteString(") = lower(").Arg(address).WriteByte(')')
		}))
	}
}
