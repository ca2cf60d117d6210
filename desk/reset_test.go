package desk_test

import (
	"context"
	"errors"
	"maps"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/auditevent"
	"github.com/recoverydesk/recoverydesk/ent/caseevent"
	"github.com/recoverydesk/recoverydesk/ent/emailaddress"
	"github.com/recoverydesk/recoverydesk/ent/pendinglogin"
	"github.com/recoverydesk/recoverydesk/ent/recoverycode"
	"github.com/recoverydesk/recoverydesk/ent/resetapproval"
	"github.com/recoverydesk/recoverydesk/ent/resetrequest"
	"github.com/recoverydesk/recoverydesk/ent/schema/types"
	"github.com/recoverydesk/recoverydesk/ent/securityevent"
	"github.com/recoverydesk/recoverydesk/ent/session"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/ent/totpcredential"
	"github.com/recoverydesk/recoverydesk/ent/trusteddevice"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/ent/webauthncredential"
)

// decFixture is a Triage on the evidence fixture's store, with a clock the
// test moves.
type decFixture struct {
	evFixture
	tr  *desk.Triage
	now *time.Time
}

// newDecision returns a Triage with waiting period wait (0: the default)
// and a clock starting now.
func newDecision(t *testing.T, wait time.Duration) decFixture {
	t.Helper()
	fx := decFixture{evFixture: newEvidence(t), now: new(time.Time)}
	*fx.now = time.Now().UTC().Truncate(time.Second)
	fx.tr = fx.triageAt(wait)
	return fx
}

// triageAt is another Triage on the same store and clock.
func (fx decFixture) triageAt(wait time.Duration) *desk.Triage {
	base, _ := url.Parse(testBase)
	return desk.NewTriage(fx.st, fx.outbox, fx.signer, fx.ev, "Recovery Desk Test", base,
		desk.TriageOptions{WaitingPeriod: wait, Now: func() time.Time { return *fx.now }})
}

// decAdmin is an active admin with a verified primary address, whose
// session used a security key.
func decAdmin(t *testing.T, fx decFixture, role user.StaffRole) desk.Actor {
	t.Helper()
	id, name := queueStaff(t, fx.st, role)
	err := fx.st.Ent.EmailAddress.Create().SetUserID(id).SetAddress(name + "@staff.test").
		SetAddressNormalized(name + "@staff.test").SetPrimary(true).SetVerifiedAt(accountBorn).Exec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return desk.Actor{UserID: id, WebAuthn: true}
}

// recoveryCase is a recovery case about a fresh account (one more
// verified and one unverified address, an authenticator app and a key),
// with recommendation rec.
func (fx decFixture) recoveryCase(t *testing.T, rec desk.Recommendation) (*seeded, filed) {
	t.Helper()
	a := seedAccount(t, fx.st)
	a.addEmail(a.User.Username+"@backup.test", false, &accountBorn)
	a.addEmail(a.User.Username+"@unverified.test", false, nil)
	a.addTOTP()
	a.addWebAuthn(false)
	f := fx.insertCase(t, unique("req")+"@contact.test", a.User.Username, types.CaseIntake{})
	err := fx.st.Ent.SupportCase.UpdateOneID(f.ID).SetAccountID(a.User.ID).SetRecommendation(string(rec)).Exec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return a, f
}

// addProof records an email-control proof for address on the case;
// discounted non-empty makes it not count.
func (fx decFixture) addProof(t *testing.T, caseID int, address, discounted string) {
	t.Helper()
	err := fx.st.Ent.EvidenceItem.Create().SetCaseID(caseID).SetKind(desk.KindEmailControl).
		SetStrength("proof_of_control").SetSource(address).SetDedupeKey("email_control:" + address).
		SetFinding(types.Finding{Summary: "Confirmed " + address, Discounted: discounted}).
		Exec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
}

// caseOf reads the case row.
func (fx decFixture) caseOf(t *testing.T, id int) *ent.SupportCase {
	t.Helper()
	return fx.st.Ent.SupportCase.GetX(context.Background(), id)
}

// resetsOf are the case's reset requests, oldest first.
func (fx decFixture) resetsOf(t *testing.T, caseID int) []*ent.ResetRequest {
	t.Helper()
	return fx.st.Ent.ResetRequest.Query().Where(resetrequest.CaseID(caseID)).
		Order(ent.Asc(resetrequest.FieldID)).AllX(context.Background())
}

// auditActions lists the audit actions on case ref, oldest first.
func (fx decFixture) auditActions(t *testing.T, ref string) []string {
	t.Helper()
	rows := fx.st.Ent.AuditEvent.Query().Where(auditevent.TargetID(ref)).
		Order(ent.Asc(auditevent.FieldID)).AllX(context.Background())
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Action
	}
	return out
}

var cancelLink = regexp.MustCompile(regexp.QuoteMeta(testBase+desk.PathResetCancel) + `\?token=([A-Za-z0-9_-]+)`)

// cancelToken is the cancel token mailed about the case (every mail
// carries the same link).
func (fx decFixture) cancelToken(t *testing.T, caseID int) string {
	t.Helper()
	ms := mails(t, fx.st, caseID, desk.MailResetScheduled)
	if len(ms) == 0 {
		t.Fatal("no reset_scheduled mail")
	}
	sub := cancelLink.FindStringSubmatch(ms[len(ms)-1].BodyText)
	if sub == nil {
		t.Fatalf("no cancel link in:\n%s", ms[0].BodyText)
	}
	return sub[1]
}

// approved schedules a reset of a fresh approve-recommended case.
func (fx decFixture) approved(t *testing.T, in desk.ApproveInput) (*seeded, filed, desk.Actor) {
	t.Helper()
	a, f := fx.recoveryCase(t, desk.RecommendApprove)
	admin := decAdmin(t, fx, user.StaffRoleAdmin)
	if in.Reason == "" {
		in.Reason = "Confirmed from the verified address."
	}
	if _, err := fx.tr.Approve(context.Background(), f.Reference, admin, in); err != nil {
		t.Fatalf("approve: %v", err)
	}
	return a, f, admin
}

func TestCancelLink(t *testing.T) {
	ctx := context.Background()
	fx := newDecision(t, 0)
	a, f, _ := fx.approved(t, desk.ApproveInput{})
	token := fx.cancelToken(t, f.ID)

	// Looking does not spend the link (mail scanners open links).
	for range 2 {
		v, err := fx.tr.PeekResetCancel(ctx, token)
		if err != nil {
			t.Fatalf("peek: %v", err)
		}
		if v.Username != a.User.Username || !v.ScheduledFor.Equal(fx.now.Add(desk.DefaultResetWaitingPeriod)) {
			t.Fatalf("peek = %+v", v)
		}
	}
	if _, err := fx.tr.CancelReset(ctx, token, origin()); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	r := fx.resetsOf(t, f.ID)[0]
	if r.Status != resetrequest.StatusCancelled || r.CancelledAt == nil {
		t.Fatalf("reset after cancel: %s %v", r.Status, r.CancelledAt)
	}
	if c := fx.caseOf(t, f.ID); c.Status != supportcase.StatusReadyForDecision {
		t.Fatalf("case status %s, want ready_for_decision", c.Status)
	}
	if n := fx.st.Ent.ResetApproval.Query().Where(resetapproval.CaseID(f.ID), resetapproval.VoidedAtIsNil()).CountX(ctx); n != 0 {
		t.Fatalf("%d approvals still count after the cancel", n)
	}
	if alerts := mails(t, fx.st, f.ID, desk.MailResetCancelledStaff); len(alerts) == 0 {
		t.Fatal("no staff alert")
	}
	if !fx.st.Ent.CaseEvent.Query().Where(caseevent.CaseID(f.ID), caseevent.Kind("reset_cancelled")).ExistX(ctx) {
		t.Fatal("no reset_cancelled on the timeline")
	}
	if got := fx.auditActions(t, f.Reference); !strings.Contains(strings.Join(got, ","), desk.AuditResetCancel) {
		t.Fatalf("audit actions %v lack %s", got, desk.AuditResetCancel)
	}

	// Reused.
	if _, err := fx.tr.CancelReset(ctx, token, origin()); !errors.Is(err, account.ErrTokenUsed) {
		t.Fatalf("second cancel: %v, want ErrTokenUsed", err)
	}
	if _, err := fx.tr.PeekResetCancel(ctx, token); !errors.Is(err, account.ErrTokenUsed) {
		t.Fatalf("peek after cancel: %v, want ErrTokenUsed", err)
	}
	// Forged.
	for _, forged := range []string{"", "x", strings.Repeat("A", 43), token[:len(token)-1] + "Q"} {
		if _, err := fx.tr.CancelReset(ctx, forged, origin()); !errors.Is(err, account.ErrTokenInvalid) {
			t.Fatalf("forged %q: %v, want ErrTokenInvalid", forged, err)
		}
	}
	// The job of a cancelled reset does nothing.
	if err := fx.tr.ExecuteReset(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if f, err := account.LoadSecondFactors(ctx, fx.st.Ent, a.User.ID); err != nil || !f.TOTP || f.WebAuthn != 1 {
		t.Fatalf("factors after a cancelled reset's job: %+v %v", f, err)
	}
}

// The link is spent once however many clicks race: the row lock makes
// every other one see the cancelled reset.
func TestCancelLinkRace(t *testing.T) {
	ctx := context.Background()
	fx := newDecision(t, 0)
	_, f, _ := fx.approved(t, desk.ApproveInput{})
	token := fx.cancelToken(t, f.ID)
	const clicks = 6
	errs := make([]error, clicks)
	var wg sync.WaitGroup
	for i := range clicks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = fx.tr.CancelReset(ctx, token, origin())
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, account.ErrTokenUsed):
			t.Fatalf("racing click: %v, want ErrTokenUsed", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d clicks cancelled the reset, want 1", ok)
	}
	if n := fx.st.Ent.CaseEvent.Query().Where(caseevent.CaseID(f.ID), caseevent.Kind("reset_cancelled")).CountX(ctx); n != 1 {
		t.Fatalf("%d reset_cancelled events, want 1", n)
	}
}

func TestCancelLinkExpires(t *testing.T) {
	ctx := context.Background()
	fx := newDecision(t, time.Hour)
	_, f, _ := fx.approved(t, desk.ApproveInput{})
	token := fx.cancelToken(t, f.ID)
	*fx.now = fx.now.Add(time.Hour)
	if _, err := fx.tr.PeekResetCancel(ctx, token); !errors.Is(err, account.ErrTokenExpired) {
		t.Fatalf("peek at the reset's time: %v, want ErrTokenExpired", err)
	}
	if _, err := fx.tr.CancelReset(ctx, token, origin()); !errors.Is(err, account.ErrTokenExpired) {
		t.Fatalf("cancel at the reset's time: %v, want ErrTokenExpired", err)
	}
	// Once done, still expired (not "used").
	if err := fx.tr.ExecuteReset(ctx, fx.resetsOf(t, f.ID)[0].ID); err != nil {
		t.Fatal(err)
	}
	*fx.now = fx.now.Add(-2 * time.Hour)
	if _, err := fx.tr.CancelReset(ctx, token, origin()); !errors.Is(err, account.ErrTokenExpired) {
		t.Fatalf("cancel after the reset ran: %v, want ErrTokenExpired", err)
	}
}

// giveEverything adds what a reset wipes: a recovery code, a trusted
// browser, a session using it, a half-finished login.
func giveEverything(t *testing.T, fx decFixture, a *seeded) {
	t.Helper()
	ctx := context.Background()
	c := fx.st.Ent
	id := a.User.ID
	c.RecoveryCode.Create().SetUserID(id).SetCodeHash("hash").SetBatch(1).ExecX(ctx)
	d := c.TrustedDevice.Create().SetUserID(id).SetDeviceHash([]byte(unique("dev"))).SaveX(ctx)
	c.Session.Create().SetUserID(id).SetTokenHash([]byte(unique("s"))).SetExpiresAt(time.Now().Add(time.Hour)).
		SetTrustedDeviceID(d.ID).ExecX(ctx)
	c.PendingLogin.Create().SetUserID(id).SetDeviceHash([]byte("d")).SetTokenHash([]byte(unique("p"))).
		SetMethod("totp").SetExpiresAt(time.Now().Add(time.Hour)).ExecX(ctx)
}

// leftOf counts what a reset wipes that the user still has.
func leftOf(t *testing.T, fx decFixture, userID int) map[string]int {
	t.Helper()
	ctx := context.Background()
	c := fx.st.Ent
	return map[string]int{
		"totp":      c.TOTPCredential.Query().Where(totpcredential.UserID(userID)).CountX(ctx),
		"keys":      c.WebAuthnCredential.Query().Where(webauthncredential.UserID(userID)).CountX(ctx),
		"codes":     c.RecoveryCode.Query().Where(recoverycode.UserID(userID)).CountX(ctx),
		"devices":   c.TrustedDevice.Query().Where(trusteddevice.UserID(userID), trusteddevice.RevokedAtIsNil()).CountX(ctx),
		"sessions":  c.Session.Query().Where(session.UserID(userID), session.RevokedAtIsNil()).CountX(ctx),
		"pending":   c.PendingLogin.Query().Where(pendinglogin.UserID(userID)).CountX(ctx),
		"must_enrl": map[bool]int{true: 1}[c.User.GetX(ctx, userID).MustEnroll2fa],
	}
}

func TestResetJobEffects(t *testing.T) {
	ctx := context.Background()
	fx := newDecision(t, desk.NoWait)
	a, f := fx.recoveryCase(t, desk.RecommendApprove)
	other := seedAccount(t, fx.st)
	other.addTOTP()
	other.addWebAuthn(true)
	giveEverything(t, fx, a)
	giveEverything(t, fx, other)
	contact := fx.caseOf(t, f.ID).RequesterEmail
	fx.addProof(t, f.ID, contact, "")
	admin := decAdmin(t, fx, user.StaffRoleAdmin)
	if _, err := fx.tr.Approve(ctx, f.Reference, admin, desk.ApproveInput{Reason: "Proven.", NewEmail: contact}); err != nil {
		t.Fatal(err)
	}
	r := fx.resetsOf(t, f.ID)[0]
	if err := fx.tr.ExecuteReset(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"totp": 0, "keys": 0, "codes": 0, "devices": 0, "sessions": 0, "pending": 0, "must_enrl": 1}
	if got := leftOf(t, fx, a.User.ID); !maps.Equal(got, want) {
		t.Fatalf("after the reset the account has %v, want %v", got, want)
	}
	untouched := map[string]int{"totp": 1, "keys": 1, "codes": 1, "devices": 1, "sessions": 1, "pending": 1, "must_enrl": 0}
	if got := leftOf(t, fx, other.User.ID); !maps.Equal(got, untouched) {
		t.Fatalf("another account has %v, want %v", got, untouched)
	}
	primary := fx.st.Ent.EmailAddress.Query().Where(emailaddress.UserID(a.User.ID), emailaddress.Primary(true)).OnlyX(ctx)
	if primary.Address != contact || primary.VerifiedAt == nil {
		t.Fatalf("primary address %s (verified %v), want %s verified", primary.Address, primary.VerifiedAt, contact)
	}
	if r := fx.resetsOf(t, f.ID)[0]; r.Status != resetrequest.StatusDone || r.ExecutedAt == nil {
		t.Fatalf("reset %s executed %v", r.Status, r.ExecutedAt)
	}
	if c := fx.caseOf(t, f.ID); c.Status != supportcase.StatusResolved {
		t.Fatalf("case %s, want resolved", c.Status)
	}
	if !fx.st.Ent.SecurityEvent.Query().Where(securityevent.UserID(a.User.ID), securityevent.Kind(string(account.EventTwoFAReset))).ExistX(ctx) {
		t.Fatal("no twofa_reset security event")
	}
	if !fx.st.Ent.AuditEvent.Query().Where(auditevent.Action(account.AuditTwoFAReset)).ExistX(ctx) {
		t.Fatal("no account.twofa_reset audit row")
	}
	done := mails(t, fx.st, f.ID, desk.MailResetDone)
	var to []string
	for _, m := range done {
		to = append(to, m.ToAddress)
		if !strings.Contains(m.BodyText, testBase+"/login") {
			t.Fatalf("the done mail does not say where to sign in:\n%s", m.BodyText)
		}
	}
	if len(to) != 3 || !strings.Contains(strings.Join(to, " "), contact) {
		t.Fatalf("done mail went to %v, want the two old verified addresses and %s", to, contact)
	}

	// Runs once.
	if err := fx.tr.ExecuteReset(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if n := len(mails(t, fx.st, f.ID, desk.MailResetDone)); n != 3 {
		t.Fatalf("second run sent mail: %d done mails", n)
	}
}

func TestResetJobWaitsForItsTime(t *testing.T) {
	ctx := context.Background()
	fx := newDecision(t, 0)
	a, f, _ := fx.approved(t, desk.ApproveInput{})
	r := fx.resetsOf(t, f.ID)[0]
	err := fx.tr.ExecuteReset(ctx, r.ID)
	var again *desk.CheckAgainError
	if !errors.As(err, &again) || again.After != desk.DefaultResetWaitingPeriod {
		t.Fatalf("early run: %v, want check again in 72h", err)
	}
	if got := leftOf(t, fx, a.User.ID); got["totp"] != 1 || got["keys"] != 1 {
		t.Fatalf("an early run changed the account: %v", got)
	}
}
