package desk

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/emailaddress"
	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// MaxAddedText bounds what a requester adds on the status page.
const MaxAddedText = 10000

// StatusView is what the requester sees behind the status link. It holds
// only what they may see: never internal notes, evidence or who handles
// the case.
type StatusView struct {
	Reference string
	// Status is the case's status in words; Next what happens next.
	Status, Next string
	Created      time.Time
	// Todo is what the requester must do now (open challenges), each one
	// sentence; never what the checks found.
	Todo     []string
	Messages []PublicMessage
	// MergedInto is the reference of the case this one was merged into
	// (staff found it was the same request); "" if it was not. What the
	// requester adds here goes to that case.
	MergedInto string
}

// PublicMessage is one public message of the case thread.
type PublicMessage struct {
	// FromRequester is true for the requester's own messages (shown as
	// "you"), false for support's replies.
	FromRequester bool
	At            time.Time
	// Body is what the person wrote; Quoted the history their mail program
	// quoted below it (folded on display, never dropped).
	Body   string
	Quoted string
	// Attachments are the message's files, by name and size.
	Attachments []AttachmentInfo
}

// statusText is the requester's wording of each status and what follows.
var statusText = map[supportcase.Status][2]string{
	supportcase.StatusNew:                {"Received", "A member of our support team will review your request, usually within two working days. We write to you by email when we need something."},
	supportcase.StatusWaitingOnRequester: {"Waiting for you", "We asked you for more information. Reply to our email or add it below."},
	supportcase.StatusWaitingOnChallenge: {"Waiting for a check", "We sent you a check to complete (a link or a step in your project). Follow the instructions in our email."},
	supportcase.StatusReadyForDecision:   {"Under review", "We have what we need and are deciding. You hear from us by email."},
	supportcase.StatusResetScheduled:     {"Reset scheduled", "The account's second factors will be reset after a waiting period, unless someone with access to the account cancels it. We email you when it is done."},
	supportcase.StatusResolved:           {"Resolved", "This request is complete. If something is still wrong, add it below."},
	supportcase.StatusDenied:             {"Declined", "We could not confirm that the account is yours; our email gives the reason. You can add information below."},
	supportcase.StatusClosed:             {"Closed", "This case is closed. If you still need help, add it below or file a new request."},
}

// Status returns the status page of case ref for the holder of token. A
// wrong reference or token gives ErrNotFound; the token is compared in
// constant time.
func (in *Intake) Status(ctx context.Context, ref, token string) (*StatusView, error) {
	c, err := in.caseByLink(ctx, in.st.Ent, ref, token)
	if err != nil {
		return nil, err
	}
	msgs, err := in.st.Ent.Message.Query().
		Where(message.CaseID(c.ID),
			message.VisibilityEQ(message.VisibilityPublic),
			message.DirectionIn(message.DirectionInbound, message.DirectionOutbound)).
		Order(ent.Asc(message.FieldCreatedAt), ent.Asc(message.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: status of %s: messages: %w", c.Reference, err)
	}
	ids := make([]int, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	files, err := attachmentsOf(ctx, in.st.Ent, ids)
	if err != nil {
		return nil, fmt.Errorf("desk: status of %s: %w", c.Reference, err)
	}
	todo, err := requesterTodo(ctx, in.st.Ent, c, in.now())
	if err != nil {
		return nil, err
	}
	text := statusText[c.Status]
	v := &StatusView{Reference: c.Reference, Status: text[0], Next: text[1], Created: c.CreatedAt, Todo: todo}
	if c.MergedIntoID != nil {
		if v.MergedInto, err = survivorRef(ctx, in.st.Ent, c.Reference); err != nil {
			return nil, fmt.Errorf("desk: status of %s: %w", c.Reference, err)
		}
		v.Status, v.Next = "Merged", "This request is handled together with "+v.MergedInto+", which you also filed. What you add here goes there, and we write to you by email."
	}
	for _, m := range msgs {
		folded := mailbox.FoldQuoted(m.BodyText, mailbox.ReplyAboveMarker)
		v.Messages = append(v.Messages, PublicMessage{
			FromRequester: m.Direction == message.DirectionInbound,
			At:            m.ReceivedAt,
			Body:          folded.Visible,
			Quoted:        folded.Quoted,
			Attachments:   files[m.ID],
		})
	}
	return v, nil
}

// AddInformation stores text and files from the status page as a public
// message of the case and tells the assignee, if there is one, by email.
// Text may be empty when files come with it; files beyond the limits
// (MaxUploads, MaxUploadSize, MaxUploadsTotal) give FieldErrors{"files"}.
func (in *Intake) AddInformation(ctx context.Context, ref, token, text string, files []Upload, at Origin) error {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	files, err := checkUploads(files)
	if err != nil {
		return err
	}
	switch l := utf8.RuneCountInString(text); {
	case l == 0 && len(files) == 0:
		return FieldErrors{"text": "Write what you want to add."}
	case l > MaxAddedText:
		return FieldErrors{"text": fmt.Sprintf("Shorten this to at most %d characters (it has %d), or add it in two parts.", MaxAddedText, l)}
	}
	return in.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		c, err := in.caseByLink(ctx, tx.Ent, ref, token)
		if err != nil {
			return err
		}
		if c.MergedIntoID != nil {
			// The requester's link still works after a merge; what they
			// add belongs to the case staff work on.
			id, err := survivorID(ctx, tx.Ent, *c.MergedIntoID)
			if err != nil {
				return fmt.Errorf("desk: add information to %s: %w", c.Reference, err)
			}
			if c, err = tx.Ent.SupportCase.Get(ctx, id); err != nil {
				return fmt.Errorf("desk: add information to %s: survivor: %w", ref, err)
			}
		}
		now := in.now()
		msgID, err := in.addWebMessage(ctx, tx, c.ID, c.RequesterName, c.RequesterEmail, c.Subject, text, now)
		if err != nil {
			return fmt.Errorf("desk: add information to %s: %w", c.Reference, err)
		}
		if err := storeAttachments(ctx, tx, msgID, files); err != nil {
			return fmt.Errorf("desk: add information to %s: %w", c.Reference, err)
		}
		if err := tx.Ent.SupportCase.UpdateOne(c).SetLastActivityAt(now).SetUpdatedAt(now).Exec(ctx); err != nil {
			return fmt.Errorf("desk: add information to %s: %w", c.Reference, err)
		}
		if err := caseEvent(ctx, tx, c.ID, nil, "requester_added_information", map[string]any{"ip": at.IP, "user_agent": at.UserAgent, "attachments": len(files)}, now); err != nil {
			return fmt.Errorf("desk: add information to %s: %w", c.Reference, err)
		}
		if c.Kind == supportcase.KindRecovery {
			EnqueueEvidence(tx, c.ID, false)
		}
		if c.AssigneeID == nil {
			return nil
		}
		addr, err := tx.Ent.EmailAddress.Query().
			Where(emailaddress.UserID(*c.AssigneeID), emailaddress.Primary(true)).
			Only(ctx)
		if ent.IsNotFound(err) {
			return nil // an assignee without an address sees it in the queue
		}
		if err != nil {
			return fmt.Errorf("desk: add information to %s: assignee address: %w", c.Reference, err)
		}
		notice := text
		if len(files) > 0 {
			notice = strings.TrimSpace(fmt.Sprintf("%s\n\n(%d attached files)", text, len(files)))
		}
		return in.queueCaseUpdated(ctx, tx, c.ID, *c.AssigneeID, addr.Address, c.Reference, notice)
	})
}

// caseByLink finds the case of a status link, or ErrNotFound. The token
// is the case's own (from the acknowledgement) or a live case_status
// action token of that case minted by staff.
func (in *Intake) caseByLink(ctx context.Context, client *ent.Client, ref, token string) (*ent.SupportCase, error) {
	ref, ok := NormalizeReference(ref)
	if !ok || token == "" {
		return nil, ErrNotFound
	}
	c, err := client.SupportCase.Query().Where(supportcase.Reference(ref)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("desk: find case %s: %w", ref, err)
	}
	if subtle.ConstantTimeCompare(tokenHash(token), c.StatusTokenHash) == 1 {
		return c, nil
	}
	// Staff may have sent a newer link (a canned reply's {{status_link}}).
	ok, err = statusLinkCase(ctx, client, c.ID, token, in.now())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	return c, nil
}
