package desk_test

import (
	"context"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/user"
)

// A new case gets the configured deadlines of its kind, the queue's
// sla_due follows the first-reply deadline until staff reply, then the
// resolution deadline.
func TestSLADeadlinesFollowTheCase(t *testing.T) {
	d := newCaseDesk(t)
	policy := desk.SLAPolicy{
		Recovery: desk.SLA{FirstResponse: 3 * time.Hour, Resolution: 30 * time.Hour},
		General:  desk.SLA{FirstResponse: 5 * time.Hour, Resolution: 50 * time.Hour},
	}
	d.in.SetSLA(policy)
	f := d.fileCase(t)
	c := d.caseRow(t, f.ID)
	want := policy.DeadlinesFor(c.Kind, c.CreatedAt)
	if c.FirstResponseDue == nil || !c.FirstResponseDue.Equal(want.FirstResponse) ||
		c.ResolutionDue == nil || !c.ResolutionDue.Equal(want.Resolution) ||
		c.SLADue == nil || !c.SLADue.Equal(want.FirstResponse) {
		t.Fatalf("new case: first reply due %v, resolution due %v, sla due %v; want %v, %v, the first",
			c.FirstResponseDue, c.ResolutionDue, c.SLADue, want.FirstResponse, want.Resolution)
	}

	agent, _ := d.member(t, user.StaffRoleAgent)
	if err := d.tr.Reply(context.Background(), f.Reference, agent, "Thanks, we are looking into it."); err != nil {
		t.Fatal(err)
	}
	c = d.caseRow(t, f.ID)
	if c.FirstRespondedAt == nil || c.SLADue == nil || !c.SLADue.Equal(want.Resolution) {
		t.Fatalf("after the first reply: responded %v, sla due %v; want the resolution deadline %v", c.FirstRespondedAt, c.SLADue, want.Resolution)
	}
}
