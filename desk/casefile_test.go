package desk_test

import (
	"context"
	"testing"

	"github.com/recoverydesk/recoverydesk/desk"
)

// TestCaseFileShowsJobProgress: the case page tells waiting, retrying and
// given-up jobs apart, with the error of the last failed attempt. The
// River rows are moved by SQL, as a worker would move them.
func TestCaseFileShowsJobProgress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newEvidence(t)
	a := seedAccount(t, fx.st)
	c := fx.submit(t, recoveryForm(a.User.Username, unique("req")+"@example.net"))

	setState := func(kind, state, errText string) {
		t.Helper()
		_, err := fx.st.Pool.Exec(ctx, `
			UPDATE river_job SET state = $3::river_job_state, attempt = 1,
			       errors = ARRAY[jsonb_build_object('at', now(), 'attempt', 1, 'error', $4::text, 'trace', '')],
			       finalized_at = CASE WHEN $3::text = 'discarded' THEN now() END
			WHERE kind = $2 AND metadata @> jsonb_build_object('case_id', $1::int)`,
			c.ID, kind, state, errText)
		if err != nil {
			t.Fatal(err)
		}
	}
	setState(desk.UploadHistoryArgs{}.Kind(), "retryable", "connection refused")
	setState(desk.AccountHistoryArgs{}.Kind(), "discarded", "too many attempts: boom")

	f, err := fx.ev.CaseFile(ctx, c.Reference)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]desk.JobProgress{}
	for _, j := range f.Jobs {
		got[j.Kind] = j
	}
	if len(got) != 6 {
		t.Fatalf("%d jobs on the case page, want 6: %+v", len(got), f.Jobs)
	}
	if j := got[desk.AccountMatchArgs{}.Kind()]; j.State != desk.JobPending || j.Error != "" {
		t.Errorf("account match %+v, want pending without error", j)
	}
	if j := got[desk.UploadHistoryArgs{}.Kind()]; j.State != desk.JobRetrying || j.Error != "connection refused" || j.Next == nil {
		t.Errorf("upload history %+v, want retrying with its error and next run", j)
	}
	if j := got[desk.AccountHistoryArgs{}.Kind()]; j.State != desk.JobFailed || j.Error != "too many attempts: boom" {
		t.Errorf("account history %+v, want failed with its error", j)
	}
	if !f.Busy() {
		t.Error("Busy() = false with jobs still to run")
	}
}
