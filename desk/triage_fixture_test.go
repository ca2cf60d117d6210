package desk_test

import (
	"context"
	"net/url"
	"slices"
	"testing"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/auditevent"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/audit"
)

// caseDesk is a Triage sharing the evidence fixture's store, outbox and
// signer, so its replies thread like the intake's mail.
type caseDesk struct {
	evFixture
	tr *desk.Triage
}

func newCaseDesk(t *testing.T) caseDesk {
	t.Helper()
	fx := newEvidence(t)
	base, _ := url.Parse(testBase)
	return caseDesk{evFixture: fx, tr: desk.NewTriage(fx.st, fx.outbox, fx.signer, fx.ev, "Recovery Desk Test", base, desk.TriageOptions{})}
}

// member creates a staff member with role and returns them as an actor.
func (d caseDesk) member(t *testing.T, role user.StaffRole) (desk.Actor, string) {
	t.Helper()
	id, name := queueStaff(t, d.st, role)
	return desk.Actor{UserID: id}, name
}

// fileCase files a recovery request from a fresh contact address.
func (d caseDesk) fileCase(t *testing.T) filed {
	t.Helper()
	return d.submit(t, recoveryForm(unique("user"), unique("contact")+"@example.net"))
}

// caseRow reads a case back.
func (d caseDesk) caseRow(t *testing.T, id int) *ent.SupportCase {
	t.Helper()
	c, err := d.st.Ent.SupportCase.Query().Where(supportcase.ID(id)).Only(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// auditActions lists the actions of the audit rows about case ref, in
// order, and checks the whole chain still verifies.
func (d caseDesk) auditActions(t *testing.T, ref string) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := d.st.Ent.AuditEvent.Query().
		Where(auditevent.TargetType("case"), auditevent.TargetID(ref)).
		Order(ent.Asc(auditevent.FieldID)).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := audit.Verify(ctx, d.st.Ent)
	if err != nil {
		t.Fatal(err)
	}
	if res.FirstBroken != nil {
		t.Fatalf("audit chain broken at %+v", res.FirstBroken)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Action
	}
	return out
}

func wantActions(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("audit actions %q, want %q", got, want)
	}
}

// timelineTitles are the titles of the case's timeline entries.
func (d caseDesk) timelineTitles(t *testing.T, ref string) []string {
	t.Helper()
	f, err := d.ev.CaseFile(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(f.Timeline))
	for i, e := range f.Timeline {
		out[i] = e.Title
	}
	return out
}
