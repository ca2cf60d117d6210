package desk_test

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/migrations"
)

// statsStore is a migrated database of its own: the dashboard counts
// every case, so the other tests' cases must not be there.
func statsStore(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, testdb.Fresh(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if _, err := migrations.Apply(ctx, st.Pool, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	return st
}

// statsCase is a case with the dashboard's timestamps.
type statsCase struct {
	status                   supportcase.Status
	created                  time.Time
	firstDue, resolutionDue  time.Time
	responded, resolved, due *time.Time
	mergedInto               *int
}

func insertStatsCase(t *testing.T, st *store.Store, c statsCase) int {
	t.Helper()
	ref, err := desk.NewReference()
	if err != nil {
		t.Fatal(err)
	}
	hash := sha256.Sum256([]byte(unique("token")))
	row, err := st.Ent.SupportCase.Create().SetReference(ref).SetStatus(c.status).
		SetRequesterEmail("r@example.net").SetRequesterEmailNormalized("r@example.net").SetStatusTokenHash(hash[:]).
		SetCreatedAt(c.created).SetUpdatedAt(c.created).SetLastActivityAt(c.created).
		SetFirstResponseDue(c.firstDue).SetResolutionDue(c.resolutionDue).
		SetNillableFirstRespondedAt(c.responded).SetNillableResolvedAt(c.resolved).SetNillableSLADue(c.due).
		SetNillableMergedIntoID(c.mergedInto).
		Save(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return row.ID
}

func TestStats(t *testing.T) {
	t.Parallel()
	st := statsStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 21, 15, 0, 0, 0, time.UTC)
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	p := func(t time.Time) *time.Time { return &t }
	// The window of 3 days is 19 Nov 00:00 to now.
	cs := []statsCase{
		// 0: opened 19th 10:00, answered after 1 h (in time), resolved
		// after 10 h (late).
		{status: supportcase.StatusResolved, created: day(19, 10), firstDue: day(19, 12), resolutionDue: day(19, 15),
			responded: p(day(19, 11)), resolved: p(day(19, 20))},
		// 1: opened 19th 12:00, answered after 2 h, denied after 20 h.
		{status: supportcase.StatusDenied, created: day(19, 12), firstDue: day(19, 18), resolutionDue: day(21, 0),
			responded: p(day(19, 14)), resolved: p(day(20, 8))},
		// 2: opened 20th 9:00, answered after 4 h (late), still waiting.
		{status: supportcase.StatusWaitingOnRequester, created: day(20, 9), firstDue: day(20, 10), resolutionDue: day(23, 0),
			responded: p(day(20, 13)), due: p(day(23, 0))},
		// 3: opened 21st 8:00, not answered, overdue.
		{status: supportcase.StatusNew, created: day(21, 8), firstDue: day(21, 9), resolutionDue: day(24, 0), due: p(day(21, 9))},
		// 4: opened 21st 9:00, answered after 5 h.
		{status: supportcase.StatusNew, created: day(21, 9), firstDue: day(21, 20), resolutionDue: day(24, 0),
			responded: p(day(21, 14)), due: p(day(24, 0))},
		// 5: opened before the window, resolved in it on the 21st: a
		// resolution of the day, but not a duration of the window.
		{status: supportcase.StatusResolved, created: day(10, 9), firstDue: day(10, 10), resolutionDue: day(30, 0),
			responded: p(day(10, 9)), resolved: p(day(21, 3))},
		// 6: opened before the window, still open, overdue.
		{status: supportcase.StatusReadyForDecision, created: day(12, 9), firstDue: day(12, 10), resolutionDue: day(15, 0),
			responded: p(day(12, 9)), due: p(day(15, 0))},
		// 7: opened after now (a clock skew): outside the window.
		{status: supportcase.StatusNew, created: day(21, 16), firstDue: day(21, 17), resolutionDue: day(24, 0), due: p(day(24, 0))},
	}
	ids := make([]int, len(cs))
	for i, c := range cs {
		ids[i] = insertStatsCase(t, st, c)
	}
	// 8: merged into case 3: counted nowhere.
	insertStatsCase(t, st, statsCase{status: supportcase.StatusClosed, created: day(21, 10), firstDue: day(21, 11), resolutionDue: day(24, 0),
		resolved: p(day(21, 11)), mergedInto: &ids[3]})

	// Decisions: a reset scheduled (with an approval) in the window, one
	// approval before it.
	admin, _ := queueStaff(t, st, user.StaffRoleAdmin)
	owner, _ := queueStaff(t, st, user.StaffRoleNone)
	req, err := st.Ent.ResetRequest.Create().SetCaseID(ids[0]).SetUserID(owner).SetApprovedByID(admin).SetReason("proof").
		SetScheduledFor(day(22, 19)).SetCancelTokenHash([]byte("c1")).SetCreatedAt(day(19, 19)).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Ent.ResetApproval.Create().SetCaseID(ids[0]).SetAdminID(admin).SetReason("proof").SetResetRequestID(req.ID).SetCreatedAt(day(19, 19)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Ent.ResetApproval.Create().SetCaseID(ids[5]).SetAdminID(admin).SetReason("old").SetCreatedAt(day(11, 9)).Exec(ctx); err != nil {
		t.Fatal(err)
	}

	s, err := queueTriage(st).Stats(ctx, 3, now)
	if err != nil {
		t.Fatal(err)
	}
	if !s.From.Equal(day(19, 0)) || s.Days != 3 {
		t.Errorf("window from %v, %d days", s.From, s.Days)
	}
	open := map[supportcase.Status]int{}
	for _, o := range s.Open {
		open[o.Status] = o.Count
	}
	wantOpen := map[supportcase.Status]int{
		supportcase.StatusNew: 3, supportcase.StatusWaitingOnRequester: 1, supportcase.StatusWaitingOnChallenge: 0,
		supportcase.StatusReadyForDecision: 1, supportcase.StatusResetScheduled: 0,
	}
	if len(s.Open) != len(wantOpen) {
		t.Errorf("open lists %d statuses, want %d", len(s.Open), len(wantOpen))
	}
	for k, v := range wantOpen {
		if open[k] != v {
			t.Errorf("open %s = %d, want %d", k, open[k], v)
		}
	}
	wantDays := []desk.DayCount{
		{Day: day(19, 0), New: 2, Resolved: 1},
		{Day: day(20, 0), New: 1, Resolved: 1},
		{Day: day(21, 0), New: 2, Resolved: 1},
	}
	if len(s.PerDay) != 3 {
		t.Fatalf("per day: %+v", s.PerDay)
	}
	for i, w := range wantDays {
		if g := s.PerDay[i]; !g.Day.Equal(w.Day) || g.New != w.New || g.Resolved != w.Resolved {
			t.Errorf("day %d: %+v, want %+v", i, g, w)
		}
	}
	// First responses of cases 0-4: 1 h, 2 h, 4 h, 5 h (case 3 none).
	// Median 3 h; p90 = 4 h + 0.7 × 1 h = 4 h 42 min.
	if want := (desk.Durations{N: 4, Median: 3 * time.Hour, P90: 4*time.Hour + 42*time.Minute}); s.FirstResponse != want {
		t.Errorf("first response %+v, want %+v", s.FirstResponse, want)
	}
	// Resolutions: 10 h and 20 h. Median 15 h, p90 = 10 h + 0.9 × 10 h.
	if want := (desk.Durations{N: 2, Median: 15 * time.Hour, P90: 19 * time.Hour}); s.Resolution != want {
		t.Errorf("resolution %+v, want %+v", s.Resolution, want)
	}
	if s.Overdue != 2 || s.LateFirstResponses != 1 || s.LateResolutions != 1 {
		t.Errorf("overdue %d, late first responses %d, late resolutions %d; want 2, 1, 1", s.Overdue, s.LateFirstResponses, s.LateResolutions)
	}
	if s.ResetsScheduled != 1 || s.Approvals != 1 || s.Denials != 1 {
		t.Errorf("resets %d, approvals %d, denials %d; want 1 each", s.ResetsScheduled, s.Approvals, s.Denials)
	}

	// An empty window has no durations.
	empty, err := queueTriage(st).Stats(ctx, 7, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if empty.FirstResponse != (desk.Durations{}) || len(empty.PerDay) != 7 || empty.PerDay[6].New != 0 {
		t.Errorf("empty window: %+v", empty)
	}
}
