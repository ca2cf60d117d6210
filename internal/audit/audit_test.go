package audit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/internal/audit"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// emptyLog gives the test an empty audit log on the shared package database.
func emptyLog(t testing.TB) *store.Store {
	t.Helper()
	st := testdb.Store(t)
	if _, err := st.Pool.Exec(context.Background(), "DELETE FROM audit_events"); err != nil {
		t.Fatal(err)
	}
	return st
}

func appendOne(t testing.TB, st *store.Store, e audit.Entry) *ent.AuditEvent {
	t.Helper()
	var row *ent.AuditEvent
	err := st.InTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		var err error
		row, err = audit.Append(ctx, tx, e)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return row
}

// appendFive appends five varied rows, the first by a real user.
func appendFive(t *testing.T, st *store.Store) []*ent.AuditEvent {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("auditor%d", time.Now().UnixNano())
	u, err := st.Ent.User.Create().SetUsername(name).SetUsernameNormalized(name).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type reason struct {
		Code  string
		Score int
	}
	entries := []audit.Entry{
		{ActorID: &u.ID, ActorLabel: "agent " + name, Action: "case.assign", TargetType: "case", TargetID: "17",
			Details: map[string]any{"to": name, "from": nil}},
		{ActorLabel: "system", Action: "reset.scheduled", TargetType: "user", TargetID: "3",
			Details: map[string]any{"waiting": "72h", "reason": reason{"lost-device", 3}, "big": 1 << 40}},
		{ActorLabel: "admin bob", Action: "case.approve", TargetType: "case", TargetID: "17",
			Details: map[string]any{"note": "<ok> & \"quoted\"", "list": []any{1, "two", 3.5}}},
		{ActorLabel: "system", Action: "mail.sent", At: time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.FixedZone("X", 3600))},
		{ActorLabel: "admin bob", Action: "user.2fa_reset", TargetType: "user", TargetID: "3", Details: map[string]any{}},
	}
	rows := make([]*ent.AuditEvent, len(entries))
	for i, e := range entries {
		rows[i] = appendOne(t, st, e)
	}
	return rows
}

func verify(t *testing.T, st *store.Store) audit.Result {
	t.Helper()
	res, err := audit.Verify(context.Background(), st.Ent)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestAppendChainsAndVerifies(t *testing.T) {
	st := emptyLog(t)
	rows := appendFive(t, st)
	if len(rows[0].PrevHash) != 0 {
		t.Errorf("first row's prev_hash = %x, want empty", rows[0].PrevHash)
	}
	for i := 1; i < len(rows); i++ {
		if string(rows[i].PrevHash) != string(rows[i-1].Hash) {
			t.Errorf("row %d's prev_hash is not row %d's hash", rows[i].ID, rows[i-1].ID)
		}
		if len(rows[i].Hash) != 32 {
			t.Errorf("row %d's hash has %d bytes, want 32", rows[i].ID, len(rows[i].Hash))
		}
	}
	res := verify(t, st)
	if res.Rows != 5 || res.FirstBroken != nil {
		t.Fatalf("Verify = %d rows, broken %+v; want 5 rows, none broken", res.Rows, res.FirstBroken)
	}
}

func TestVerifyEmptyLog(t *testing.T) {
	st := emptyLog(t)
	if res := verify(t, st); res.Rows != 0 || res.FirstBroken != nil {
		t.Fatalf("Verify on an empty log = %+v", res)
	}
}

func TestAppendRejectsMissingActorOrAction(t *testing.T) {
	st := emptyLog(t)
	for _, e := range []audit.Entry{{Action: "x"}, {ActorLabel: "system"}} {
		err := st.InTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
			_, err := audit.Append(ctx, tx, e)
			return err
		})
		if err == nil {
			t.Errorf("Append(%+v) succeeded, want an error", e)
		}
	}
	if n := verify(t, st).Rows; n != 0 {
		t.Fatalf("%d rows after rejected appends", n)
	}
}

func TestTamperedRowIsNamed(t *testing.T) {
	tampers := map[string]string{
		"details":     `UPDATE audit_events SET details = '{"note": "nothing to see"}' WHERE id = $1`,
		"action":      `UPDATE audit_events SET action = 'case.deny' WHERE id = $1`,
		"actor_label": `UPDATE audit_events SET actor_label = 'admin mallory' WHERE id = $1`,
		"target_id":   `UPDATE audit_events SET target_id = '18' WHERE id = $1`,
		"created_at":  `UPDATE audit_events SET created_at = created_at + interval '1 microsecond' WHERE id = $1`,
	}
	for field, sql := range tampers {
		t.Run(field, func(t *testing.T) {
			st := emptyLog(t)
			rows := appendFive(t, st)
			victim := rows[2]
			if _, err := st.Pool.Exec(context.Background(), sql, victim.ID); err != nil {
				t.Fatal(err)
			}
			res := verify(t, st)
			b := res.FirstBroken
			if b == nil {
				t.Fatalf("tampered %s of row %d went unnoticed (%d rows checked)", field, victim.ID, res.Rows)
			}
			if b.ID != victim.ID || b.Reason != "hash does not match its contents" || res.Rows != 3 {
				t.Fatalf("broken = %+v after %d rows; want row %d, hash mismatch, after 3 rows", b, res.Rows, victim.ID)
			}
		})
	}
}

func TestDeletedRowNamesTheNext(t *testing.T) {
	st := emptyLog(t)
	rows := appendFive(t, st)
	if _, err := st.Pool.Exec(context.Background(), "DELETE FROM audit_events WHERE id = $1", rows[2].ID); err != nil {
		t.Fatal(err)
	}
	b := verify(t, st).FirstBroken
	want := fmt.Sprintf("prev_hash does not match row %d's hash", rows[1].ID)
	if b == nil || b.ID != rows[3].ID || b.Reason != want || b.Action != rows[3].Action {
		t.Fatalf("after deleting row %d: broken = %+v; want row %d, %q", rows[2].ID, b, rows[3].ID, want)
	}
	if !b.At.Equal(rows[3].CreatedAt) {
		t.Errorf("broken.At = %v, want %v", b.At, rows[3].CreatedAt)
	}
}

func TestDeletedFirstRowIsNoticed(t *testing.T) {
	st := emptyLog(t)
	rows := appendFive(t, st)
	if _, err := st.Pool.Exec(context.Background(), "DELETE FROM audit_events WHERE id = $1", rows[0].ID); err != nil {
		t.Fatal(err)
	}
	if b := verify(t, st).FirstBroken; b == nil || b.ID != rows[1].ID {
		t.Fatalf("after deleting the first row: broken = %+v; want row %d", b, rows[1].ID)
	}
}

func TestConcurrentAppendsKeepOneChain(t *testing.T) {
	st := emptyLog(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- st.InTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
				_, err := audit.Append(ctx, tx, audit.Entry{ActorLabel: "system", Action: "concurrent", TargetID: fmt.Sprint(i)})
				return err
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	res := verify(t, st)
	if res.Rows != n || res.FirstBroken != nil {
		t.Fatalf("Verify = %d rows, broken %+v; want %d rows, none broken", res.Rows, res.FirstBroken, n)
	}
}

func TestRolledBackAppendLeavesNoRow(t *testing.T) {
	st := emptyLog(t)
	first := appendOne(t, st, audit.Entry{ActorLabel: "system", Action: "before"})
	errAbort := errors.New("abort")
	err := st.InTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		if _, err := audit.Append(ctx, tx, audit.Entry{ActorLabel: "system", Action: "rolled.back"}); err != nil {
			return err
		}
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("InTx = %v, want the abort error", err)
	}
	if res := verify(t, st); res.Rows != 1 {
		t.Fatalf("%d rows after a rolled-back append, want 1", res.Rows)
	}
	// The chain continues from the committed row, across the id gap.
	next := appendOne(t, st, audit.Entry{ActorLabel: "system", Action: "after"})
	if string(next.PrevHash) != string(first.Hash) {
		t.Fatal("row after the rollback does not chain onto the last committed row")
	}
	if res := verify(t, st); res.Rows != 2 || res.FirstBroken != nil {
		t.Fatalf("Verify = %+v, want 2 rows, none broken", res)
	}
}

// More rows than one Verify batch: paging must neither skip nor repeat a
// row, and must carry the previous hash across the batch boundary.
func TestVerifyAcrossBatches(t *testing.T) {
	st := emptyLog(t)
	const n = 1003
	var last *ent.AuditEvent
	err := st.InTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		for i := range n {
			var err error
			last, err = audit.Append(ctx, tx, audit.Entry{ActorLabel: "system", Action: "bulk", TargetID: fmt.Sprint(i)})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res := verify(t, st); res.Rows != n || res.FirstBroken != nil {
		t.Fatalf("Verify = %d rows, broken %+v; want %d, none", res.Rows, res.FirstBroken, n)
	}
	if _, err := st.Pool.Exec(context.Background(), "UPDATE audit_events SET target_id = 'x' WHERE id = $1", last.ID); err != nil {
		t.Fatal(err)
	}
	res := verify(t, st)
	if b := res.FirstBroken; b == nil || b.ID != last.ID || res.Rows != n {
		t.Fatalf("tampered last row: %+v after %d rows; want row %d", b, res.Rows, last.ID)
	}
	if !strings.Contains(res.FirstBroken.Reason, "hash") {
		t.Errorf("reason %q", res.FirstBroken.Reason)
	}
}

func BenchmarkAppend(b *testing.B) {
	st := emptyLog(b)
	details := map[string]any{"case": 17, "note": "benchmark"}
	for b.Loop() {
		err := st.InTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
			_, err := audit.Append(ctx, tx, audit.Entry{ActorLabel: "system", Action: "bench", Details: details})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
