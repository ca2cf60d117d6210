package desk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/emailaddress"
	"github.com/recoverydesk/recoverydesk/ent/evidenceitem"
	"github.com/recoverydesk/recoverydesk/ent/resetapproval"
	"github.com/recoverydesk/recoverydesk/ent/resetrequest"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// The decisions on a recovery case: approve the 2FA reset, deny the
// request, or ask the requester for more. Each runs in one transaction
// with its timeline event and its audit row.

// ErrNeedsWebAuthn refuses an approval from an admin whose session did not
// sign in with a security key or passkey. It is an ErrForbidden.
var ErrNeedsWebAuthn = fmt.Errorf("%w: sign in with your security key to approve a reset", ErrForbidden)

// ErrSameAdmin refuses a second approval by the admin who recorded the
// first: a reset the assessment does not recommend needs two different
// admins.
var ErrSameAdmin = errors.New("desk: you already approved this reset; a second admin must approve")

// ErrNotDecidable refuses a decision the case's state does not allow (no
// account linked, already settled, a reset already scheduled); the
// wrapped message says which.
var ErrNotDecidable = errors.New("desk: this case cannot take that decision now")

// Audit actions of the decisions.
const (
	AuditResetApprove          = "reset.approve"
	AuditResetApprovalRecorded = "reset.approval_recorded"
	AuditCaseDeny              = "case.deny"
	AuditCaseMoreInfo          = "case.more_info"
)

// MailCaseDenied is the purpose of the denial mailed to the requester.
const MailCaseDenied = "case_denied"

// ApproveInput is an admin's approval of a case's 2FA reset.
type ApproveInput struct {
	// Reason is why, for the record; required.
	Reason string
	// Immediate runs the reset without a waiting period; allowed only
	// when the evidence holds a proof of control that counts.
	Immediate bool
	// NewEmail, optional, becomes the account's primary address when the
	// reset runs. It must be an address this case proved the requester
	// reads: one whose email challenge was confirmed.
	NewEmail string
}

// ApproveResult says what an approval did.
type ApproveResult struct {
	// Scheduled is true when the reset was scheduled, for ScheduledFor;
	// false when the approval waits for a second admin.
	Scheduled    bool
	ScheduledFor time.Time
}

// Approve records admin actor's approval of the 2FA reset of case ref.
// The actor must be an admin whose session used WebAuthn (ErrForbidden,
// ErrNeedsWebAuthn). When the assessment recommends approval, or another
// admin's approval is pending, the reset is scheduled; otherwise the
// approval is recorded and waits for a second, different admin
// (ErrSameAdmin for the same one).
func (t *Triage) Approve(ctx context.Context, ref string, actor Actor, in ApproveInput) (ApproveResult, error) {
	var res ApproveResult
	reason := strings.TrimSpace(in.Reason)
	newEmail := strings.TrimSpace(in.NewEmail)
	err := t.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		if _, err := staff(ctx, tx, actor, user.StaffRoleAdmin); err != nil {
			return err
		}
		if !actor.WebAuthn {
			return ErrNeedsWebAuthn
		}
		c, err := lockCaseRef(ctx, tx, ref)
		if err != nil {
			return err
		}
		if err := decidable(ctx, tx, c); err != nil {
			return err
		}
		now := t.now()
		fe := FieldErrors{}
		if reason == "" {
			fe["reason"] = "Give the reason for approving; it goes in the case's audit trail."
		}
		wait := t.waiting
		if in.Immediate {
			proof, err := hasProof(ctx, tx.Ent, c.ID)
			if err != nil {
				return err
			}
			if !proof {
				fe["immediate"] = "The waiting period can only be skipped when the evidence holds a proof of control that counts."
			}
			wait = 0
		}
		if newEmail != "" {
			if msg, err := checkNewEmail(ctx, tx.Ent, c, newEmail); err != nil {
				return err
			} else if msg != "" {
				fe["new_email"] = msg
			}
		}
		if len(fe) > 0 {
			return fe
		}
		pending, err := pendingApprovals(tx.Ent.ResetApproval.Query(), c.ID).All(ctx)
		if err != nil {
			return fmt.Errorf("desk: approvals of %s: %w", c.Reference, err)
		}
		rec := ""
		if c.Recommendation != nil {
			rec = *c.Recommendation
		}
		var first *ent.ResetApproval
		for _, p := range pending {
			if p.AdminID != actor.UserID {
				first = p
				break
			}
		}
		mine := false
		for _, p := range pending {
			mine = mine || p.AdminID == actor.UserID
		}
		switch {
		case rec == string(RecommendApprove):
		case first != nil:
		case mine:
			return ErrSameAdmin
		default:
			// The first of two approvals: recorded, the case waits for a
			// second admin.
			if _, err := tx.Ent.ResetApproval.Create().
				SetCaseID(c.ID).SetAdminID(actor.UserID).SetReason(reason).
				SetRecommendation(rec).SetCreatedAt(now).Save(ctx); err != nil {
				return fmt.Errorf("desk: record approval on %s: %w", c.Reference, err)
			}
			if err := setStatus(ctx, tx, c, &actor.UserID, supportcase.StatusReadyForDecision, "approval recorded; a second admin must approve", now); err != nil {
				return err
			}
			details := map[string]any{"reason": reason, "recommendation": rec}
			if err := caseEvent(ctx, tx, c.ID, &actor.UserID, "reset_approval_recorded", details, now); err != nil {
				return err
			}
			return auditStaff(ctx, tx, actor.UserID, AuditResetApprovalRecorded, c.Reference, details, now)
		}
		s := scheduled{approvedBy: actor.UserID, reason: reason, actorReason: reason, rec: rec, wait: wait, newEmail: newEmail}
		if first != nil && rec != string(RecommendApprove) {
			s.approvedBy, s.second = first.AdminID, &actor.UserID
			s.reason = first.Reason + "\n\nSecond approval: " + reason
		}
		r, err := t.schedule(ctx, tx, c, actor.UserID, s, pending, now)
		if err != nil {
			return err
		}
		res = ApproveResult{Scheduled: true, ScheduledFor: r.ScheduledFor}
		return nil
	})
	if err != nil {
		return ApproveResult{}, err
	}
	return res, nil
}

// decidable checks that case c can be approved: open, a recovery case
// with a linked account, not settled, no reset scheduled.
func decidable(ctx context.Context, tx *store.Tx, c *ent.SupportCase) error {
	if err := caseOpen(c); err != nil {
		return err
	}
	if c.Kind != supportcase.KindRecovery || c.AccountID == nil {
		return fmt.Errorf("%w: %s is not linked to an account", ErrNotDecidable, c.Reference)
	}
	if Settled(c.Status) {
		return fmt.Errorf("%w: %s is %s; reopen it first", ErrNotDecidable, c.Reference, words(string(c.Status)))
	}
	busy, err := tx.Ent.ResetRequest.Query().
		Where(resetrequest.CaseID(c.ID), resetrequest.StatusEQ(resetrequest.StatusScheduled)).
		Exist(ctx)
	if err != nil {
		return fmt.Errorf("desk: resets of %s: %w", c.Reference, err)
	}
	if busy {
		return fmt.Errorf("%w: a reset of %s is already scheduled", ErrNotDecidable, c.Reference)
	}
	return nil
}

// pendingApprovals narrows q to the approvals of case caseID that wait
// for a second admin, oldest first. An approval counts only while its
// admin is still an active admin: a revoked or disabled admin's approval
// must not let a single remaining admin schedule a reset the assessment
// does not recommend.
func pendingApprovals(q *ent.ResetApprovalQuery, caseID int) *ent.ResetApprovalQuery {
	return q.Where(resetapproval.CaseID(caseID), resetapproval.ResetRequestIDIsNil(), resetapproval.VoidedAtIsNil(),
		resetapproval.HasAdminWith(user.StaffRoleEQ(user.StaffRoleAdmin), user.StatusEQ(user.StatusActive))).
		Order(ent.Asc(resetapproval.FieldCreatedAt), ent.Asc(resetapproval.FieldID))
}

// hasProof reports whether the case's evidence holds a proof of control
// that counts (not discounted).
func hasProof(ctx context.Context, client *ent.Client, caseID int) (bool, error) {
	rows, err := client.EvidenceItem.Query().
		Where(evidenceitem.CaseID(caseID), evidenceitem.StrengthEQ(evidenceitem.StrengthProofOfControl)).
		All(ctx)
	if err != nil {
		return false, fmt.Errorf("desk: proofs of case %d: %w", caseID, err)
	}
	for _, r := range rows {
		if r.Finding.Discounted == "" {
			return true, nil
		}
	}
	return false, nil
}

// provenAddresses are the addresses whose email challenge in this case was
// confirmed ("yes, I asked for this"), keyed by canonical form.
func provenAddresses(ctx context.Context, client *ent.Client, caseID int) (map[string]string, error) {
	rows, err := client.EvidenceItem.Query().
		Where(evidenceitem.CaseID(caseID), evidenceitem.Kind(KindEmailControl)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: confirmed addresses of case %d: %w", caseID, err)
	}
	out := map[string]string{}
	for _, r := range rows {
		if r.Source != "" {
			out[account.NormalizeEmail(r.Source)] = r.Source
		}
	}
	return out, nil
}

// checkNewEmail returns why address cannot become the account's primary
// address at the reset ("" when it can): it must have been proven in this
// case and not be verified on another account.
func checkNewEmail(ctx context.Context, client *ent.Client, c *ent.SupportCase, address string) (string, error) {
	proven, err := provenAddresses(ctx, client, c.ID)
	if err != nil {
		return "", err
	}
	norm := account.NormalizeEmail(address)
	if _, ok := proven[norm]; !ok {
		return "Only an address whose email challenge was confirmed in this case can be set; send a challenge to it first.", nil
	}
	taken, err := client.EmailAddress.Query().
		Where(emailaddress.AddressNormalized(norm), emailaddress.VerifiedAtNotNil(), emailaddress.UserIDNEQ(*c.AccountID)).
		Exist(ctx)
	if err != nil {
		return "", fmt.Errorf("desk: check new email for %s: %w", c.Reference, err)
	}
	if taken {
		return "This address is verified on another account.", nil
	}
	return "", nil
}

// Deny declines case ref: reason is mailed to the requester, the case is
// denied, and any approval pending or reset scheduled is voided.
func (t *Triage) Deny(ctx context.Context, ref string, actor Actor, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return FieldErrors{"reason": "Give the reason; it is mailed to the requester."}
	}
	return t.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, c, err := t.actOn(ctx, tx, ref, actor)
		if err != nil {
			return err
		}
		switch {
		case c.Status == supportcase.StatusDenied:
			return fmt.Errorf("%w: %s is already denied", ErrNotDecidable, c.Reference)
		case Settled(c.Status):
			// A resolved case may have had its reset run: a denial
			// mailed now would contradict what was done.
			return fmt.Errorf("%w: %s is %s; reopen it first", ErrNotDecidable, c.Reference, words(string(c.Status)))
		}
		now := t.now()
		username := ""
		if c.ClaimedUsername != nil {
			username = *c.ClaimedUsername
		}
		_, body, err := t.tmpl.Render(MailCaseDenied, struct{ Reference, Username, Reason string }{c.Reference, username, reason})
		if err != nil {
			return err
		}
		if body, err = t.expand(ctx, tx, c, body, now); err != nil {
			return err
		}
		if _, err := t.queueReply(ctx, tx, c, reply{AuthorID: &actor.UserID, Body: body, Purpose: MailCaseDenied}, now); err != nil {
			return err
		}
		cancelled, err := tx.Ent.ResetRequest.Update().
			Where(resetrequest.CaseID(c.ID), resetrequest.StatusEQ(resetrequest.StatusScheduled)).
			SetStatus(resetrequest.StatusCancelled).SetCancelledAt(now).Save(ctx)
		if err != nil {
			return fmt.Errorf("desk: deny %s: cancel reset: %w", c.Reference, err)
		}
		if err := voidApprovals(ctx, tx, c.ID, now); err != nil {
			return err
		}
		if err := setStatus(ctx, tx, c, &actor.UserID, supportcase.StatusDenied, reason, now); err != nil {
			return err
		}
		details := map[string]any{"reason": reason}
		if cancelled > 0 {
			details["reset_cancelled"] = true
		}
		return auditStaff(ctx, tx, actor.UserID, AuditCaseDeny, c.Reference, details, now)
	})
}

// voidApprovals voids the approvals of case caseID that no reset used
// (and those of cancelled resets), so they never count again.
func voidApprovals(ctx context.Context, tx *store.Tx, caseID int, now time.Time) error {
	_, err := tx.Ent.ResetApproval.Update().
		Where(resetapproval.CaseID(caseID), resetapproval.VoidedAtIsNil(),
			resetapproval.Or(
				resetapproval.ResetRequestIDIsNil(),
				resetapproval.HasResetRequestWith(resetrequest.StatusEQ(resetrequest.StatusCancelled)))).
		SetVoidedAt(now).Save(ctx)
	if err != nil {
		return fmt.Errorf("desk: void approvals of case %d: %w", caseID, err)
	}
	return nil
}

// AskMoreInfo mails body (placeholders expanded) to the requester of case
// ref and waits for their answer (status waiting on requester).
func (t *Triage) AskMoreInfo(ctx context.Context, ref string, actor Actor, body string) error {
	body = strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	switch {
	case body == "":
		return FieldErrors{"body": "Write what you need from the requester, or pick a canned reply."}
	case len(body) > MaxReplyBytes:
		return FieldErrors{"body": fmt.Sprintf("Shorten the message to at most %d bytes.", MaxReplyBytes)}
	}
	return t.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, c, err := t.actOn(ctx, tx, ref, actor)
		if err != nil {
			return err
		}
		if c.Status == supportcase.StatusResetScheduled {
			return fmt.Errorf("%w: a reset of %s is scheduled; deny the case to stop it", ErrNotDecidable, c.Reference)
		}
		now := t.now()
		text, err := t.expand(ctx, tx, c, body, now)
		if err != nil {
			return err
		}
		m, err := t.queueReply(ctx, tx, c, reply{AuthorID: &actor.UserID, Body: text}, now)
		if err != nil {
			return err
		}
		if err := setStatus(ctx, tx, c, &actor.UserID, supportcase.StatusWaitingOnRequester, "asked for more information", now); err != nil {
			return err
		}
		return auditStaff(ctx, tx, actor.UserID, AuditCaseMoreInfo, c.Reference, map[string]any{"message_id": m.ID}, now)
	})
}

// DecisionState is what the case page's decision panel shows to one staff
// member: the recommendation, approvals waiting for a second admin, the
// newest reset, and whether the viewer may approve (and why not).
type DecisionState struct {
	Recommendation Recommendation
	Status         string
	Pending        []PendingApproval
	Reset          *ResetState
	// CanApprove is false when ApproveBlocked says why the viewer cannot
	// approve now.
	CanApprove     bool
	ApproveBlocked string
	// NeedsSecondAdmin: the assessment does not recommend approval and no
	// other admin approved yet, so an approval now waits for another.
	NeedsSecondAdmin bool
	// ProofOfControl allows skipping the waiting period.
	ProofOfControl bool
	// ProvenAddresses may become the account's primary address.
	ProvenAddresses []string
	WaitingPeriod   time.Duration
	// Open is false for a merged or settled case (no denial); CanAsk is
	// false for a merged case or one whose reset is scheduled.
	Open, CanAsk bool
}

// PendingApproval is an admin's approval waiting for a second admin.
type PendingApproval struct {
	Admin, Reason string
	At            time.Time
	Mine          bool
}

// ResetState is a case's newest reset request.
type ResetState struct {
	Status                     string
	ScheduledFor               time.Time
	ApprovedBy, SecondApprover string
	NewEmail                   string
	ExecutedAt, CancelledAt    *time.Time
}

// DecisionState returns the decision panel of case ref for viewer, or
// ErrNotFound.
func (t *Triage) DecisionState(ctx context.Context, ref string, viewer Actor) (*DecisionState, error) {
	norm, ok := NormalizeReference(ref)
	if !ok {
		return nil, ErrNotFound
	}
	client := t.st.Ent
	c, err := client.SupportCase.Query().Where(supportcase.Reference(norm)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("desk: decision state of %s: %w", norm, err)
	}
	s := &DecisionState{Recommendation: RecommendNone, Status: string(c.Status), WaitingPeriod: t.waiting,
		Open:   c.MergedIntoID == nil && !Settled(c.Status),
		CanAsk: c.MergedIntoID == nil && c.Status != supportcase.StatusResetScheduled}
	if c.Recommendation != nil {
		s.Recommendation = Recommendation(*c.Recommendation)
	}
	pending, err := pendingApprovals(client.ResetApproval.Query(), c.ID).WithAdmin().All(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: decision state of %s: %w", norm, err)
	}
	mine, others := false, false
	for _, p := range pending {
		s.Pending = append(s.Pending, PendingApproval{Admin: p.Edges.Admin.Username, Reason: p.Reason, At: p.CreatedAt, Mine: p.AdminID == viewer.UserID})
		mine = mine || p.AdminID == viewer.UserID
		others = others || p.AdminID != viewer.UserID
	}
	r, err := client.ResetRequest.Query().Where(resetrequest.CaseID(c.ID)).
		WithApprovedBy().WithSecondApprover().
		Order(ent.Desc(resetrequest.FieldCreatedAt), ent.Desc(resetrequest.FieldID)).First(ctx)
	switch {
	case err == nil:
		s.Reset = &ResetState{Status: string(r.Status), ScheduledFor: r.ScheduledFor, ApprovedBy: r.Edges.ApprovedBy.Username,
			ExecutedAt: r.ExecutedAt, CancelledAt: r.CancelledAt}
		if r.Edges.SecondApprover != nil {
			s.Reset.SecondApprover = r.Edges.SecondApprover.Username
		}
		if r.NewEmail != nil {
			s.Reset.NewEmail = *r.NewEmail
		}
	case !ent.IsNotFound(err):
		return nil, fmt.Errorf("desk: decision state of %s: %w", norm, err)
	}
	if s.ProofOfControl, err = hasProof(ctx, client, c.ID); err != nil {
		return nil, err
	}
	proven, err := provenAddresses(ctx, client, c.ID)
	if err != nil {
		return nil, err
	}
	for _, a := range proven {
		s.ProvenAddresses = append(s.ProvenAddresses, a)
	}
	slices.Sort(s.ProvenAddresses)
	s.NeedsSecondAdmin = s.Recommendation != RecommendApprove && !others
	v, err := client.User.Get(ctx, viewer.UserID)
	if err != nil && !ent.IsNotFound(err) {
		return nil, fmt.Errorf("desk: decision state of %s: %w", norm, err)
	}
	switch {
	case v == nil || v.StaffRole != user.StaffRoleAdmin || v.Status != user.StatusActive:
		s.ApproveBlocked = "Only an admin can approve a reset."
	case !viewer.WebAuthn:
		s.ApproveBlocked = "Sign in with your security key to approve."
	case c.MergedIntoID != nil:
		s.ApproveBlocked = "This case was merged into another; decide there."
	case c.Kind != supportcase.KindRecovery || c.AccountID == nil:
		s.ApproveBlocked = "The case is not linked to an account yet."
	case Settled(c.Status):
		s.ApproveBlocked = "The case is settled; reopen it first."
	case s.Reset != nil && s.Reset.Status == string(resetrequest.StatusScheduled):
		s.ApproveBlocked = "A reset is already scheduled."
	case mine && s.NeedsSecondAdmin:
		s.ApproveBlocked = "You approved already; a second admin must approve."
	default:
		s.CanApprove = true
	}
	return s, nil
}
