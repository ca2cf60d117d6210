package desk

import (
	"context"
	"fmt"
	"net/mail"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/emailaddress"
	"github.com/recoverydesk/recoverydesk/ent/resetapproval"
	"github.com/recoverydesk/recoverydesk/ent/resetrequest"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/audit"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// The scheduled 2FA reset: approved (decision.go), announced at once to
// every verified address with a link that cancels it, and run by a River
// job when the waiting period is over.

// Purposes of the reset mails, stored on OutboundMail.
const (
	MailResetScheduled      = "reset_scheduled"
	MailResetDone           = "reset_done"
	MailResetCancelledStaff = "reset_cancelled_staff"
)

// Audit actions of the reset's life.
const (
	AuditResetCancel  = "reset.cancel"
	AuditResetExecute = "reset.execute"
)

// CancelLinkActor is the audit actor of a cancel link: whoever reads a
// verified address of the account.
const CancelLinkActor = "account owner (cancel link)"

// WhenLayout writes a reset's time for people, always in UTC: in its
// mails and on the pages that confirm or cancel it.
const WhenLayout = "Monday 2 January 2006 at 15:04 UTC"

// scheduled is what an approval schedules.
type scheduled struct {
	approvedBy int
	second     *int
	reason     string
	// actorReason is the acting admin's own reason; reason, on a
	// second approval, also holds the first admin's.
	actorReason string
	rec         string
	wait        time.Duration
	newEmail    string
}

// resetMailData fills reset_scheduled.txt and reset_done.txt.
type resetMailData struct {
	SiteName, Reference, Username, Address string
	When, CancelURL, NewEmail, LoginURL    string
}

// schedule creates the reset request of case c (locked in tx) with its
// job, links the approvals (the acting admin's new one and pending ones),
// moves the case to reset_scheduled and mails every verified address of
// the account the time and the cancel link, all in tx.
func (t *Triage) schedule(ctx context.Context, tx *store.Tx, c *ent.SupportCase, actorID int, s scheduled, pending []*ent.ResetApproval, now time.Time) (*ent.ResetRequest, error) {
	// The cancel link's secret is made like a status link's: 256 random
	// bits, of which the database keeps only the hash.
	token, hash, err := newStatusToken()
	if err != nil {
		return nil, err
	}
	at := now.Add(s.wait)
	r, err := tx.Ent.ResetRequest.Create().
		SetCaseID(c.ID).
		SetUserID(*c.AccountID).
		SetApprovedByID(s.approvedBy).
		SetNillableSecondApproverID(s.second).
		SetReason(s.reason).
		SetScheduledFor(at).
		SetNillableNewEmail(nilIfEmpty(s.newEmail)).
		SetCancelTokenHash(hash).
		SetCreatedAt(now).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: schedule reset of %s: %w", c.Reference, err)
	}
	if _, err := tx.Ent.ResetApproval.Create().
		SetCaseID(c.ID).SetAdminID(actorID).SetReason(s.actorReason).
		SetRecommendation(s.rec).SetResetRequestID(r.ID).SetCreatedAt(now).Save(ctx); err != nil {
		return nil, fmt.Errorf("desk: record approval on %s: %w", c.Reference, err)
	}
	// Other admins' pending approvals are part of this reset; the actor's
	// own earlier one is superseded by the approval just recorded.
	var linked, void []int
	for _, p := range pending {
		if p.AdminID == actorID {
			void = append(void, p.ID)
		} else {
			linked = append(linked, p.ID)
		}
	}
	if len(linked) > 0 {
		if err := tx.Ent.ResetApproval.Update().Where(resetapproval.IDIn(linked...)).SetResetRequestID(r.ID).Exec(ctx); err != nil {
			return nil, fmt.Errorf("desk: link approvals on %s: %w", c.Reference, err)
		}
	}
	if len(void) > 0 {
		if err := tx.Ent.ResetApproval.Update().Where(resetapproval.IDIn(void...)).SetVoidedAt(now).Exec(ctx); err != nil {
			return nil, fmt.Errorf("desk: supersede approvals on %s: %w", c.Reference, err)
		}
	}
	tx.Enqueue(ResetArgs{ResetRequestID: r.ID}, resetInsertOpts(at))
	if err := setStatus(ctx, tx, c, &actorID, supportcase.StatusResetScheduled, "2FA reset approved", now); err != nil {
		return nil, err
	}
	u, err := tx.Ent.User.Get(ctx, *c.AccountID)
	if err != nil {
		return nil, fmt.Errorf("desk: schedule reset of %s: account: %w", c.Reference, err)
	}
	link := t.baseURL.JoinPath(PathResetCancel)
	link.RawQuery = "token=" + token
	addrs, err := t.mailAccount(ctx, tx, c, u, MailResetScheduled, resetMailData{
		SiteName: t.siteName, Reference: c.Reference, Username: u.Username,
		When: at.UTC().Format(WhenLayout), CancelURL: link.String(), NewEmail: s.newEmail,
	})
	if err != nil {
		return nil, err
	}
	details := map[string]any{
		"reset_request_id": r.ID, "scheduled_for": at.UTC().Format(time.RFC3339),
		"waiting": s.wait.String(), "reason": s.reason, "recommendation": s.rec, "notified": addrs,
	}
	if s.second != nil {
		details["first_approver_id"] = s.approvedBy
	}
	if s.newEmail != "" {
		details["new_email"] = s.newEmail
	}
	if err := caseEvent(ctx, tx, c.ID, &actorID, "reset_scheduled", details, now); err != nil {
		return nil, err
	}
	if err := auditStaff(ctx, tx, actorID, AuditResetApprove, c.Reference, details, now); err != nil {
		return nil, err
	}
	return r, nil
}

// mailAccount renders mail name with data for each verified address of
// account u and queues it in tx; it returns the addresses.
func (t *Triage) mailAccount(ctx context.Context, tx *store.Tx, c *ent.SupportCase, u *ent.User, name string, data resetMailData) ([]string, error) {
	verified, err := tx.Ent.EmailAddress.Query().
		Where(emailaddress.UserID(u.ID), emailaddress.VerifiedAtNotNil()).
		Order(ent.Desc(emailaddress.FieldPrimary), ent.Asc(emailaddress.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: addresses of %s: %w", u.Username, err)
	}
	var sent []string
	for _, a := range verified {
		data.Address = a.Address
		subject, body, err := t.tmpl.Render(name, data)
		if err != nil {
			return nil, err
		}
		// No signed Message-ID: an owner's reply must not join the
		// requester's thread, where the requester could read it.
		if _, err := t.outbox.Queue(ctx, tx, mailbox.Mail{
			To:      mail.Address{Name: u.DisplayName, Address: a.Address},
			Subject: subject,
			Text:    body,
			Purpose: name,
			CaseID:  &c.ID,
			UserID:  &u.ID,
		}); err != nil {
			return nil, fmt.Errorf("desk: %s mail to %s: %w", name, a.Address, err)
		}
		sent = append(sent, a.Address)
	}
	return sent, nil
}

// ResetCancel is what the cancel page shows: which account's reset, and
// when it would run.
type ResetCancel struct {
	Username     string
	ScheduledFor time.Time
}

// PeekResetCancel checks a cancel link without spending it (mail scanners
// open links too). It fails with account.ErrTokenInvalid (unknown link),
// account.ErrTokenUsed (already cancelled) or account.ErrTokenExpired
// (the reset ran, or its time has come).
func (t *Triage) PeekResetCancel(ctx context.Context, token string) (*ResetCancel, error) {
	r, err := t.resetByToken(ctx, t.st.Ent, token, false)
	if err != nil {
		return nil, err
	}
	if err := cancellable(r, t.now()); err != nil {
		return nil, err
	}
	u, err := t.st.Ent.User.Get(ctx, r.UserID)
	if err != nil {
		return nil, fmt.Errorf("desk: reset cancel: account %d: %w", r.UserID, err)
	}
	return &ResetCancel{Username: u.Username, ScheduledFor: r.ScheduledFor}, nil
}

// resetByToken finds the reset request of a cancel token (locked when
// lock is set), or account.ErrTokenInvalid.
func (t *Triage) resetByToken(ctx context.Context, client *ent.Client, token string, lock bool) (*ent.ResetRequest, error) {
	if token == "" || len(token) > 128 {
		return nil, account.ErrTokenInvalid
	}
	q := client.ResetRequest.Query().Where(resetrequest.CancelTokenHash(tokenHash(token)))
	if lock {
		q.ForUpdate()
	}
	r, err := q.Only(ctx)
	if ent.IsNotFound(err) {
		return nil, account.ErrTokenInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("desk: reset cancel link: %w", err)
	}
	return r, nil
}

// cancellable reports whether reset r can still be cancelled at now.
func cancellable(r *ent.ResetRequest, now time.Time) error {
	switch {
	case r.Status == resetrequest.StatusCancelled:
		return account.ErrTokenUsed
	case r.Status == resetrequest.StatusDone, !now.Before(r.ScheduledFor):
		return account.ErrTokenExpired
	}
	return nil
}

// CancelReset spends a cancel link: the reset is cancelled (its job then
// does nothing), the approvals voided, the case reopened for a decision
// and its staff alerted. A second use fails with account.ErrTokenUsed; a
// link whose reset ran or is due with account.ErrTokenExpired.
func (t *Triage) CancelReset(ctx context.Context, token string, at Origin) (*ResetCancel, error) {
	var view *ResetCancel
	err := t.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		peek, err := t.resetByToken(ctx, tx.Ent, token, false)
		if err != nil {
			return err
		}
		// Case first, then the reset: the order the decisions lock in.
		c, err := lockCase(ctx, tx, peek.CaseID)
		if err != nil {
			return err
		}
		r, err := t.resetByToken(ctx, tx.Ent, token, true)
		if err != nil {
			return err
		}
		now := t.now()
		if err := cancellable(r, now); err != nil {
			return err
		}
		if err := tx.Ent.ResetRequest.UpdateOneID(r.ID).
			SetStatus(resetrequest.StatusCancelled).SetCancelledAt(now).Exec(ctx); err != nil {
			return fmt.Errorf("desk: cancel reset %d: %w", r.ID, err)
		}
		if err := voidApprovals(ctx, tx, c.ID, now); err != nil {
			return err
		}
		u, err := tx.Ent.User.Get(ctx, r.UserID)
		if err != nil {
			return fmt.Errorf("desk: cancel reset %d: account: %w", r.ID, err)
		}
		view = &ResetCancel{Username: u.Username, ScheduledFor: r.ScheduledFor}
		if err := setStatus(ctx, tx, c, nil, supportcase.StatusReadyForDecision, "the account's owner cancelled the 2FA reset", now); err != nil {
			return err
		}
		details := map[string]any{"reset_request_id": r.ID, "ip": at.IP, "user_agent": at.UserAgent,
			"scheduled_for": r.ScheduledFor.UTC().Format(time.RFC3339)}
		if err := caseEvent(ctx, tx, c.ID, nil, "reset_cancelled", details, now); err != nil {
			return err
		}
		if _, err := audit.Append(ctx, tx, audit.Entry{
			ActorLabel: CancelLinkActor, Action: AuditResetCancel,
			TargetType: "case", TargetID: c.Reference, Details: details, At: now,
		}); err != nil {
			return fmt.Errorf("desk: %w", err)
		}
		return t.alertStaff(ctx, tx, c, u, r, at, now)
	})
	if err != nil {
		return nil, err
	}
	return view, nil
}

// alertStaff mails the case's assignee, or every admin when nobody has
// it, that the owner cancelled the reset.
func (t *Triage) alertStaff(ctx context.Context, tx *store.Tx, c *ent.SupportCase, u *ent.User, r *ent.ResetRequest, at Origin, now time.Time) error {
	q := tx.Ent.EmailAddress.Query().Where(emailaddress.Primary(true), emailaddress.VerifiedAtNotNil())
	if c.AssigneeID != nil {
		q.Where(emailaddress.UserID(*c.AssigneeID))
	} else {
		q.Where(emailaddress.HasUserWith(user.StaffRoleEQ(user.StaffRoleAdmin), user.StatusEQ(user.StatusActive)))
	}
	to, err := q.All(ctx)
	if err != nil {
		return fmt.Errorf("desk: staff to alert for %s: %w", c.Reference, err)
	}
	subject, body, err := t.tmpl.Render(MailResetCancelledStaff, struct {
		SiteName, Reference, Username, When, CancelledAt, IP, CaseURL string
	}{
		t.siteName, c.Reference, u.Username, r.ScheduledFor.UTC().Format(WhenLayout), now.UTC().Format(WhenLayout),
		at.IP, t.baseURL.JoinPath(PathDeskCase, c.Reference).String(),
	})
	if err != nil {
		return err
	}
	for _, a := range to {
		uid := a.UserID
		if _, err := t.outbox.Queue(ctx, tx, mailbox.Mail{
			To: mail.Address{Address: a.Address}, Subject: subject, Text: body,
			Purpose: MailResetCancelledStaff, CaseID: &c.ID, UserID: &uid,
		}); err != nil {
			return fmt.Errorf("desk: alert staff of %s: %w", c.Reference, err)
		}
	}
	return nil
}

// ExecuteReset runs reset request id, called by its job. A request no
// longer scheduled (cancelled, done, gone) is left alone, so the reset
// runs once however often the job does. Before its time it returns a
// *CheckAgainError with the time left.
func (t *Triage) ExecuteReset(ctx context.Context, id int) error {
	return t.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		peek, err := tx.Ent.ResetRequest.Get(ctx, id)
		if ent.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("desk: reset %d: %w", id, err)
		}
		c, err := lockCase(ctx, tx, peek.CaseID)
		if err != nil {
			return err
		}
		r, err := tx.Ent.ResetRequest.Query().Where(resetrequest.ID(id)).ForUpdate().Only(ctx)
		if err != nil {
			return fmt.Errorf("desk: lock reset %d: %w", id, err)
		}
		if r.Status != resetrequest.StatusScheduled {
			return nil
		}
		now := t.now()
		if left := r.ScheduledFor.Sub(now); left > 0 {
			return &CheckAgainError{After: left}
		}
		res, err := account.ResetSecondFactors(ctx, tx, r.UserID, r.NewEmail, "system (2FA reset "+c.Reference+")", now)
		if err != nil {
			return err
		}
		if err := tx.Ent.ResetRequest.UpdateOneID(r.ID).
			SetStatus(resetrequest.StatusDone).SetExecutedAt(now).Exec(ctx); err != nil {
			return fmt.Errorf("desk: finish reset %d: %w", id, err)
		}
		if err := setStatus(ctx, tx, c, nil, supportcase.StatusResolved, "2FA reset done", now); err != nil {
			return err
		}
		u, err := tx.Ent.User.Get(ctx, r.UserID)
		if err != nil {
			return fmt.Errorf("desk: reset %d: account: %w", id, err)
		}
		addrs, err := t.mailAccount(ctx, tx, c, u, MailResetDone, resetMailData{
			SiteName: t.siteName, Reference: c.Reference, Username: u.Username,
			When: now.UTC().Format(WhenLayout), NewEmail: res.NewEmail,
			LoginURL: t.baseURL.JoinPath("/login").String(),
		})
		if err != nil {
			return err
		}
		details := map[string]any{"reset_request_id": r.ID, "sessions_revoked": res.Sessions, "notified": addrs}
		if res.NewEmail != "" {
			details["new_email"] = res.NewEmail
		}
		if res.EmailSkipped != "" {
			details["email_skipped"] = res.EmailSkipped
		}
		if err := caseEvent(ctx, tx, c.ID, nil, "reset_executed", details, now); err != nil {
			return err
		}
		if _, err := audit.Append(ctx, tx, audit.Entry{
			ActorLabel: "system", Action: AuditResetExecute,
			TargetType: "case", TargetID: c.Reference, Details: details, At: now,
		}); err != nil {
			return fmt.Errorf("desk: %w", err)
		}
		return nil
	})
}
