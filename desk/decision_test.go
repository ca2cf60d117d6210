package desk_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/resetapproval"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/ent/user"
)

func TestApproveNeedsAdminWithSecurityKey(t *testing.T) {
	ctx := context.Background()
	fx := newDecision(t, 0)
	_, f := fx.recoveryCase(t, desk.RecommendApprove)
	in := desk.ApproveInput{Reason: "Proven."}

	agent := decAdmin(t, fx, user.StaffRoleAgent)
	if _, err := fx.tr.Approve(ctx, f.Reference, agent, in); !errors.Is(err, desk.ErrForbidden) {
		t.Fatalf("agent with a key: %v, want ErrForbidden", err)
	}
	totpOnly := decAdmin(t, fx, user.StaffRoleAdmin)
	totpOnly.WebAuthn = false
	_, err := fx.tr.Approve(ctx, f.Reference, totpOnly, in)
	if !errors.Is(err, desk.ErrNeedsWebAuthn) || !errors.Is(err, desk.ErrForbidden) {
		t.Fatalf("admin signed in with TOTP: %v, want ErrNeedsWebAuthn", err)
	}
	if !strings.Contains(err.Error(), "security key") {
		t.Fatalf("the refusal %q does not say to use a security key", err)
	}
	st, err := fx.tr.DecisionState(ctx, f.Reference, totpOnly)
	if err != nil || st.CanApprove || st.ApproveBlocked != "Sign in with your security key to approve." {
		t.Fatalf("panel for a TOTP admin: %+v %v", st, err)
	}
	if len(fx.resetsOf(t, f.ID)) != 0 || fx.st.Ent.ResetApproval.Query().CountX(ctx) != 0 {
		t.Fatal("a refused approval left a trace")
	}
	if _, err := fx.tr.Approve(ctx, f.Reference, decAdmin(t, fx, user.StaffRoleAdmin), desk.ApproveInput{}); !hasField(err, "reason") {
		t.Fatalf("no reason: %v, want a field error on reason", err)
	}
}

func hasField(err error, field string) bool {
	var fe desk.FieldErrors
	return errors.As(err, &fe) && fe[field] != ""
}

func TestApproveSecondAdminRule(t *testing.T) {
	ctx := context.Background()
	fx := newDecision(t, 0)
	_, f := fx.recoveryCase(t, desk.RecommendChallenge)
	first, second := decAdmin(t, fx, user.StaffRoleAdmin), decAdmin(t, fx, user.StaffRoleAdmin)

	res, err := fx.tr.Approve(ctx, f.Reference, first, desk.ApproveInput{Reason: "Looks right to me."})
	if err != nil || res.Scheduled {
		t.Fatalf("first approval: %+v %v, want recorded only", res, err)
	}
	if c := fx.caseOf(t, f.ID); c.Status != supportcase.StatusReadyForDecision {
		t.Fatalf("case %s after the first approval", c.Status)
	}
	if _, err := fx.tr.Approve(ctx, f.Reference, first, desk.ApproveInput{Reason: "Again."}); !errors.Is(err, desk.ErrSameAdmin) {
		t.Fatalf("same admin twice: %v, want ErrSameAdmin", err)
	}
	if n := fx.st.Ent.ResetApproval.Query().Where(resetapproval.CaseID(f.ID)).CountX(ctx); n != 1 || len(fx.resetsOf(t, f.ID)) != 0 {
		t.Fatalf("after the repeat: %d approvals, %d resets; want 1, 0", n, len(fx.resetsOf(t, f.ID)))
	}
	st, _ := fx.tr.DecisionState(ctx, f.Reference, first)
	if st.CanApprove || len(st.Pending) != 1 || !st.Pending[0].Mine {
		t.Fatalf("panel for the first admin: %+v", st)
	}
	res, err = fx.tr.Approve(ctx, f.Reference, second, desk.ApproveInput{Reason: "Agreed."})
	if err != nil || !res.Scheduled {
		t.Fatalf("second admin: %+v %v, want scheduled", res, err)
	}
	r := fx.resetsOf(t, f.ID)[0]
	if r.ApprovedByID != first.UserID || r.SecondApproverID == nil || *r.SecondApproverID != second.UserID {
		t.Fatalf("reset approved by %d and %v, want %d and %d", r.ApprovedByID, r.SecondApproverID, first.UserID, second.UserID)
	}
	if n := fx.st.Ent.ResetApproval.Query().Where(resetapproval.ResetRequestID(r.ID)).CountX(ctx); n != 2 {
		t.Fatalf("%d approvals linked to the reset, want 2", n)
	}
	got := fx.auditActions(t, f.Reference)
	if !slices.Contains(got, desk.AuditResetApprovalRecorded) || !slices.Contains(got, desk.AuditResetApprove) {
		t.Fatalf("audit actions %v", got)
	}
}

func TestApproveWaitingPeriod(t *testing.T) {
	ctx := context.Background()
	fx := newDecision(t, 0)
	a, f, _ := fx.approved(t, desk.ApproveInput{})
	r := fx.resetsOf(t, f.ID)[0]
	if want := fx.now.Add(72 * time.Hour); !r.ScheduledFor.Equal(want) {
		t.Fatalf("scheduled for %s, want %s", r.ScheduledFor, want)
	}
	if c := fx.caseOf(t, f.ID); c.Status != supportcase.StatusResetScheduled {
		t.Fatalf("case %s", c.Status)
	}
	// Every verified address, at once, with the time and the link.
	var to []string
	for _, m := range mails(t, fx.st, f.ID, desk.MailResetScheduled) {
		to = append(to, m.ToAddress)
		if !strings.Contains(m.BodyText, r.ScheduledFor.UTC().Format("2 January 2006 at 15:04 UTC")) || !cancelLink.MatchString(m.BodyText) {
			t.Fatalf("mail lacks the time or the link:\n%s", m.BodyText)
		}
		if m.Status != outboundmail.StatusQueued && m.Status != outboundmail.StatusSent {
			t.Fatalf("mail status %s", m.Status)
		}
	}
	slices.Sort(to)
	want := []string{a.User.Username + "@backup.test", a.Primary}
	slices.Sort(want)
	if !slices.Equal(to, want) {
		t.Fatalf("mailed %v, want %v", to, want)
	}
	var at time.Time
	err := fx.st.Pool.QueryRow(ctx, `SELECT scheduled_at FROM river_job WHERE kind = $1 AND (args->>'reset_request_id')::int = $2`,
		desk.ResetArgs{}.Kind(), r.ID).Scan(&at)
	if err != nil || !at.Equal(r.ScheduledFor) {
		t.Fatalf("reset job: scheduled at %s (%v), want %s", at, err, r.ScheduledFor)
	}
	// A second approval of a scheduled case is refused.
	if _, err := fx.tr.Approve(ctx, f.Reference, decAdmin(t, fx, user.StaffRoleAdmin), desk.ApproveInput{Reason: "x"}); !errors.Is(err, desk.ErrNotDecidable) {
		t.Fatalf("approving a scheduled case: %v", err)
	}
}

func TestApproveImmediateNeedsProof(t *testing.T) {
	ctx := context.Background()
	fx := newDecision(t, 0)
	admin := decAdmin(t, fx, user.StaffRoleAdmin)
	in := desk.ApproveInput{Reason: "Proven.", Immediate: true}

	_, none := fx.recoveryCase(t, desk.RecommendApprove)
	if _, err := fx.tr.Approve(ctx, none.Reference, admin, in); !hasField(err, "immediate") {
		t.Fatalf("immediate without proof: %v", err)
	}
	_, weak := fx.recoveryCase(t, desk.RecommendApprove)
	fx.addProof(t, weak.ID, "x@example.org", "the address was verified after the request")
	if _, err := fx.tr.Approve(ctx, weak.Reference, admin, in); !hasField(err, "immediate") {
		t.Fatalf("immediate with a discounted proof: %v", err)
	}
	_, proven := fx.recoveryCase(t, desk.RecommendApprove)
	fx.addProof(t, proven.ID, "y@example.org", "")
	res, err := fx.tr.Approve(ctx, proven.Reference, admin, in)
	if err != nil || !res.ScheduledFor.Equal(*fx.now) {
		t.Fatalf("immediate with proof: %+v %v, want scheduled now", res, err)
	}
}

func TestApproveNewEmailMustBeProven(t *testing.T) {
	ctx := context.Background()
	fx := newDecision(t, 0)
	admin := decAdmin(t, fx, user.StaffRoleAdmin)
	_, f := fx.recoveryCase(t, desk.RecommendApprove)
	contact := fx.caseOf(t, f.ID).RequesterEmail
	if _, err := fx.tr.Approve(ctx, f.Reference, admin, desk.ApproveInput{Reason: "x", NewEmail: contact}); !hasField(err, "new_email") {
		t.Fatalf("unproven new address: %v", err)
	}
	fx.addProof(t, f.ID, contact, "")
	if _, err := fx.tr.Approve(ctx, f.Reference, admin, desk.ApproveInput{Reason: "x", NewEmail: strings.ToUpper(contact)}); err != nil {
		t.Fatalf("proven new address: %v", err)
	}
	if r := fx.resetsOf(t, f.ID)[0]; r.NewEmail == nil {
		t.Fatal("the new address was not kept")
	}
}

func TestDenyMailsTheReason(t *testing.T) {
	ctx := context.Background()
	fx := newDecision(t, 0)
	_, f := fx.recoveryCase(t, desk.RecommendChallenge)
	admin := decAdmin(t, fx, user.StaffRoleAdmin)
	agent := decAdmin(t, fx, user.StaffRoleAgent)
	if _, err := fx.tr.Approve(ctx, f.Reference, admin, desk.ApproveInput{Reason: "first"}); err != nil {
		t.Fatal(err)
	}
	if err := fx.tr.Deny(ctx, f.Reference, agent, " "); !hasField(err, "reason") {
		t.Fatalf("deny without reason: %v", err)
	}
	if err := fx.tr.Deny(ctx, f.Reference, desk.Actor{UserID: 0}, "no"); !errors.Is(err, desk.ErrForbidden) {
		t.Fatalf("deny by a stranger: %v", err)
	}
	if err := fx.tr.Deny(ctx, f.Reference, agent, "The verified address said the request was not theirs."); err != nil {
		t.Fatal(err)
	}
	c := fx.caseOf(t, f.ID)
	if c.Status != supportcase.StatusDenied {
		t.Fatalf("case %s", c.Status)
	}
	ms := mails(t, fx.st, f.ID, desk.MailCaseDenied)
	if len(ms) != 1 || ms[0].ToAddress != c.RequesterEmail || !strings.Contains(ms[0].BodyText, "said the request was not theirs") {
		t.Fatalf("denial mails: %+v", ms)
	}
	if n := fx.st.Ent.ResetApproval.Query().Where(resetapproval.CaseID(f.ID), resetapproval.VoidedAtIsNil()).CountX(ctx); n != 0 {
		t.Fatalf("%d approvals still count after the denial", n)
	}
	if !slices.Contains(fx.auditActions(t, f.Reference), desk.AuditCaseDeny) {
		t.Fatal("no audit row for the denial")
	}
}

func TestAskMoreInfo(t *testing.T) {
	ctx := context.Background()
	fx := newDecision(t, 0)
	_, f := fx.recoveryCase(t, desk.RecommendNeedMoreInfo)
	agent := decAdmin(t, fx, user.StaffRoleAgent)
	if err := fx.tr.AskMoreInfo(ctx, f.Reference, agent, "\r\n"); !hasField(err, "body") {
		t.Fatalf("empty ask: %v", err)
	}
	if err := fx.tr.AskMoreInfo(ctx, f.Reference, agent, "Which projects did you publish?"); err != nil {
		t.Fatal(err)
	}
	c := fx.caseOf(t, f.ID)
	if c.Status != supportcase.StatusWaitingOnRequester || c.FirstRespondedAt == nil {
		t.Fatalf("case %s, first response %v", c.Status, c.FirstRespondedAt)
	}
	if !slices.Contains(fx.auditActions(t, f.Reference), desk.AuditCaseMoreInfo) {
		t.Fatal("no audit row")
	}
}

// TestApproveAfterRecommendationTurns: an admin's pending approval is
// superseded when the assessment later recommends approval and they
// approve again; a denial then cancels the scheduled reset.
func TestApproveAfterRecommendationTurns(t *testing.T) {
	ctx := context.Background()
	fx := newDecision(t, 0)
	_, f := fx.recoveryCase(t, desk.RecommendChallenge)
	admin := decAdmin(t, fx, user.StaffRoleAdmin)
	if _, err := fx.tr.Approve(ctx, f.Reference, admin, desk.ApproveInput{Reason: "first"}); err != nil {
		t.Fatal(err)
	}
	fx.st.Ent.SupportCase.UpdateOneID(f.ID).SetRecommendation(string(desk.RecommendApprove)).ExecX(ctx)
	res, err := fx.tr.Approve(ctx, f.Reference, admin, desk.ApproveInput{Reason: "now proven"})
	if err != nil || !res.Scheduled {
		t.Fatalf("approve after the recommendation turned: %+v %v", res, err)
	}
	st, err := fx.tr.DecisionState(ctx, f.Reference, admin)
	if err != nil || len(st.Pending) != 0 || st.Reset == nil || st.Reset.Status != "scheduled" {
		t.Fatalf("panel: %+v %v", st, err)
	}
	if err := fx.tr.Deny(ctx, f.Reference, admin, "Second thoughts."); err != nil {
		t.Fatal(err)
	}
	if r := fx.resetsOf(t, f.ID)[0]; r.Status != "cancelled" {
		t.Fatalf("reset %s after the denial", r.Status)
	}
}

// An approval waiting for a second admin stops counting when its admin
// loses the role: the remaining admin's approval is then only the first.
func TestApproveRevokedFirstAdminDoesNotCount(t *testing.T) {
	ctx := context.Background()
	fx := newDecision(t, 0)
	_, f := fx.recoveryCase(t, desk.RecommendChallenge)
	first, second := decAdmin(t, fx, user.StaffRoleAdmin), decAdmin(t, fx, user.StaffRoleAdmin)
	if res, err := fx.tr.Approve(ctx, f.Reference, first, desk.ApproveInput{Reason: "Looks right to me."}); err != nil || res.Scheduled {
		t.Fatalf("first approval: %+v %v", res, err)
	}
	fx.st.Ent.User.UpdateOneID(first.UserID).SetStaffRole(user.StaffRoleAgent).ExecX(ctx)
	st, err := fx.tr.DecisionState(ctx, f.Reference, second)
	if err != nil || len(st.Pending) != 0 || !st.NeedsSecondAdmin {
		t.Fatalf("panel after the revocation: %+v %v", st, err)
	}
	res, err := fx.tr.Approve(ctx, f.Reference, second, desk.ApproveInput{Reason: "Agreed."})
	if err != nil || res.Scheduled {
		t.Fatalf("approval beside a revoked admin's: %+v %v, want recorded only", res, err)
	}
	if n := len(fx.resetsOf(t, f.ID)); n != 0 {
		t.Fatalf("%d resets scheduled on one active admin's approval", n)
	}
}

// Closing a case ends the approvals waiting on it: once reopened, a
// single admin's approval is again only the first of two.
func TestCloseVoidsPendingApprovals(t *testing.T) {
	ctx := context.Background()
	fx := newDecision(t, 0)
	_, f := fx.recoveryCase(t, desk.RecommendChallenge)
	first, second := decAdmin(t, fx, user.StaffRoleAdmin), decAdmin(t, fx, user.StaffRoleAdmin)
	if _, err := fx.tr.Approve(ctx, f.Reference, first, desk.ApproveInput{Reason: "Looks right to me."}); err != nil {
		t.Fatal(err)
	}
	if err := fx.tr.SetStatus(ctx, f.Reference, second, string(supportcase.StatusClosed), "duplicate of a phone call"); err != nil {
		t.Fatal(err)
	}
	if err := fx.tr.SetStatus(ctx, f.Reference, second, string(supportcase.StatusReadyForDecision), "they wrote again"); err != nil {
		t.Fatal(err)
	}
	res, err := fx.tr.Approve(ctx, f.Reference, second, desk.ApproveInput{Reason: "Agreed."})
	if err != nil || res.Scheduled || len(fx.resetsOf(t, f.ID)) != 0 {
		t.Fatalf("approval after closing and reopening: %+v %v, want recorded only", res, err)
	}
}

// A settled case is reopened before it is denied: a denial mailed after a
// reset ran would contradict it.
func TestDenyRefusesSettledCase(t *testing.T) {
	ctx := context.Background()
	fx := newDecision(t, 0)
	_, f := fx.recoveryCase(t, desk.RecommendChallenge)
	agent := decAdmin(t, fx, user.StaffRoleAgent)
	if err := fx.tr.SetStatus(ctx, f.Reference, agent, string(supportcase.StatusClosed), ""); err != nil {
		t.Fatal(err)
	}
	if err := fx.tr.Deny(ctx, f.Reference, agent, "Not theirs."); !errors.Is(err, desk.ErrNotDecidable) {
		t.Fatalf("deny a closed case: %v, want ErrNotDecidable", err)
	}
	if ms := mails(t, fx.st, f.ID, desk.MailCaseDenied); len(ms) != 0 {
		t.Fatalf("%d denial mails for a refused denial", len(ms))
	}
}
