package mailbox

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestUntilRecordedRetriesThroughAnOutage: recording an attempt's outcome
// outlasts a database that refuses for a moment, and gives up with the
// last error once its context ends.
func TestUntilRecordedRetriesThroughAnOutage(t *testing.T) {
	down := errors.New("the database system is shutting down")
	calls := 0
	err := untilRecorded(context.Background(), func() error {
		calls++
		if calls < 3 {
			return down
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("after two refusals: %v after %d calls; want success on the third", err, calls)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
	defer cancel()
	calls = 0
	err = untilRecorded(ctx, func() error { calls++; return down })
	if !errors.Is(err, down) || calls < 2 {
		t.Fatalf("database down throughout: %v after %d calls; want its error after retrying", err, calls)
	}
}
