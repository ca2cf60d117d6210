package desk

import (
	"context"
	"fmt"
	"net/mail"

	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// Purposes of the desk's automatic mails, stored on OutboundMail.
const (
	MailRecoveryAcknowledgement = "recovery_acknowledgement"
	MailCaseUpdated             = "case_updated"
)

// PathCaseStatus is where a requester's status page lives: PathCaseStatus +
// reference + "?token=" + token. web's routes use the same path.
const PathCaseStatus = "/case/"

// PathDeskCase is where staff open a case; the assignee notice links there.
const PathDeskCase = "/desk/cases/"

// PathResetCancel is the page of the link that cancels a scheduled 2FA
// reset: PathResetCancel + "?token=" + token.
const PathResetCancel = "/reset/cancel"

// ackData fills recovery_acknowledgement.txt.
type ackData struct {
	ReplyMarker, CaseMarker string
	Name, Username          string
	SiteName                string
	Reference, StatusURL    string
}

// queueAcknowledgement queues the mail that confirms a recovery request in
// tx. It carries our signed Message-ID and body marker, so a reply threads
// to the case, and Auto-Submitted: auto-replied (RFC 3834), so an
// auto-responder at the other end does not answer it.
func (in *Intake) queueAcknowledgement(ctx context.Context, tx *store.Tx, caseID int, f normalized, ref, statusURL string) error {
	subject, body, err := in.tmpl.Render(MailRecoveryAcknowledgement, ackData{
		ReplyMarker: mailbox.ReplyAboveMarker,
		CaseMarker:  in.signer.Marker(ref),
		Name:        f.Name,
		Username:    f.Username,
		SiteName:    in.siteName,
		Reference:   ref,
		StatusURL:   statusURL,
	})
	if err != nil {
		return err
	}
	_, err = in.outbox.Queue(ctx, tx, mailbox.Mail{
		To:        mail.Address{Name: f.Name, Address: f.ContactEmail},
		Subject:   subject,
		Text:      body,
		Purpose:   MailRecoveryAcknowledgement,
		CaseID:    &caseID,
		MessageID: in.signer.New(ref),
		Headers:   map[string]string{"Auto-Submitted": "auto-replied"},
	})
	if err != nil {
		return fmt.Errorf("desk: acknowledge %s: %w", ref, err)
	}
	return nil
}

// updatedData fills case_updated.txt.
type updatedData struct {
	Reference, Text, CaseURL, SiteName string
}

// queueCaseUpdated tells the assignee of a case, at address, that the
// requester added text.
func (in *Intake) queueCaseUpdated(ctx context.Context, tx *store.Tx, caseID, assigneeID int, address, ref, text string) error {
	subject, body, err := in.tmpl.Render(MailCaseUpdated, updatedData{
		Reference: ref,
		Text:      text,
		CaseURL:   in.baseURL.JoinPath(PathDeskCase, ref).String(),
		SiteName:  in.siteName,
	})
	if err != nil {
		return err
	}
	_, err = in.outbox.Queue(ctx, tx, mailbox.Mail{
		To:      mail.Address{Address: address},
		Subject: subject,
		Text:    body,
		Purpose: MailCaseUpdated,
		CaseID:  &caseID,
		UserID:  &assigneeID,
	})
	if err != nil {
		return fmt.Errorf("desk: notify assignee of %s: %w", ref, err)
	}
	return nil
}
