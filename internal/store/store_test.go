package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// probeArgs is a job kind only this test inserts.
type probeArgs struct {
	Username string `json:"username"`
}

func (probeArgs) Kind() string { return "store_test_probe" }

func counts(t *testing.T, st *store.Store, name string) (users, jobs int) {
	t.Helper()
	ctx := context.Background()
	users, err := st.Ent.User.Query().Where(user.Username(name)).Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = $1 AND args->>'username' = $2`, probeArgs{}.Kind(), name).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	return users, jobs
}

func createUserAndJob(ctx context.Context, tx *store.Tx, name string) error {
	if _, err := tx.Ent.User.Create().SetUsername(name).SetUsernameNormalized(name).Save(ctx); err != nil {
		return err
	}
	tx.Enqueue(probeArgs{Username: name}, nil)
	return nil
}

func uniqueName(t *testing.T) string {
	return fmt.Sprintf("tx_%s_%d", t.Name(), time.Now().UnixNano())
}

func TestInTxCommitKeepsRowAndJob(t *testing.T) {
	st := testdb.Store(t)
	name := uniqueName(t)
	err := st.InTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		if err := createUserAndJob(ctx, tx, name); err != nil {
			return err
		}
		// Reads inside the transaction see its own writes…
		n, err := tx.Ent.User.Query().Where(user.Username(name)).Count(ctx)
		if err != nil || n != 1 {
			return fmt.Errorf("inside tx: count %d, %v", n, err)
		}
		// …and nothing outside does until commit.
		if u, j := counts(t, st, name); u != 0 || j != 0 {
			return fmt.Errorf("visible before commit: %d users, %d jobs", u, j)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if u, j := counts(t, st, name); u != 1 || j != 1 {
		t.Fatalf("after commit: %d users, %d jobs; want 1 and 1", u, j)
	}
}

func TestInTxErrorRollsBackRowAndJob(t *testing.T) {
	st := testdb.Store(t)
	name := uniqueName(t)
	boom := errors.New("boom")
	err := st.InTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		if err := createUserAndJob(ctx, tx, name); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if u, j := counts(t, st, name); u != 0 || j != 0 {
		t.Fatalf("after rollback: %d users, %d jobs; want none", u, j)
	}
}

func TestInTxPanicRollsBack(t *testing.T) {
	st := testdb.Store(t)
	name := uniqueName(t)
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("panic swallowed")
			}
		}()
		_ = st.InTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
			if err := createUserAndJob(ctx, tx, name); err != nil {
				t.Fatal(err)
			}
			panic("boom")
		})
	}()
	if u, j := counts(t, st, name); u != 0 || j != 0 {
		t.Fatalf("after panic: %d users, %d jobs; want none", u, j)
	}
}

func TestInTxFailedStatementRollsBack(t *testing.T) {
	st := testdb.Store(t)
	name := uniqueName(t)
	err := st.InTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		if err := createUserAndJob(ctx, tx, name); err != nil {
			return err
		}
		// A duplicate username violates the unique index.
		_, err := tx.Ent.User.Create().SetUsername(name).SetUsernameNormalized(name).Save(ctx)
		return err
	})
	if !ent.IsConstraintError(err) {
		t.Fatalf("err = %v, want a constraint error", err)
	}
	if u, j := counts(t, st, name); u != 0 || j != 0 {
		t.Fatalf("after failed statement: %d users, %d jobs; want none", u, j)
	}
}

func TestInTxNestedEntTxIsASavepoint(t *testing.T) {
	st := testdb.Store(t)
	outer, inner := uniqueName(t)+"_o", uniqueName(t)+"_i"
	err := st.InTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		if err := createUserAndJob(ctx, tx, outer); err != nil {
			return err
		}
		nested, err := tx.Ent.Tx(ctx)
		if err != nil {
			return err
		}
		if _, err := nested.User.Create().SetUsername(inner).SetUsernameNormalized(inner).Save(ctx); err != nil {
			return err
		}
		return nested.Rollback()
	})
	if err != nil {
		t.Fatal(err)
	}
	if u, j := counts(t, st, outer); u != 1 || j != 1 {
		t.Fatalf("outer: %d users, %d jobs", u, j)
	}
	if u, _ := counts(t, st, inner); u != 0 {
		t.Fatal("the rolled-back savepoint's row survived")
	}
}

// uniqueProbeArgs is unique by its arguments, like the evidence jobs.
type uniqueProbeArgs struct {
	Username string `json:"username"`
}

func (uniqueProbeArgs) Kind() string { return "store_test_unique_probe" }

func (uniqueProbeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Jobs go in at commit in one statement: a unique job added twice in one
// transaction (two replies to one case in one batch) is inserted once,
// and different jobs all arrive.
func TestInTxInsertsJobsTogetherAtCommit(t *testing.T) {
	st := testdb.Store(t)
	ctx := context.Background()
	name := uniqueName(t)
	err := st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		tx.Enqueue(uniqueProbeArgs{Username: name}, nil)
		tx.Enqueue(probeArgs{Username: name}, nil)
		tx.Enqueue(uniqueProbeArgs{Username: name}, nil)
		tx.Enqueue(uniqueProbeArgs{Username: name + "-other"}, nil)
		tx.Enqueue(probeArgs{Username: name}, nil)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	rows, err := st.Pool.Query(ctx, `SELECT kind, args->>'username' FROM river_job WHERE args->>'username' LIKE $1`, name+"%")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, user string
		if err := rows.Scan(&kind, &user); err != nil {
			t.Fatal(err)
		}
		got[kind+" "+user]++
	}
	want := map[string]int{
		"store_test_unique_probe " + name:            1,
		"store_test_unique_probe " + name + "-other": 1,
		"store_test_probe " + name:                   2,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("jobs = %v, want %v", got, want)
	}
}

// A job River refuses at commit rolls the transaction's rows back.
func TestInTxRefusedJobRollsBack(t *testing.T) {
	st := testdb.Store(t)
	name := uniqueName(t)
	err := st.InTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		if err := createUserAndJob(ctx, tx, name); err != nil {
			return err
		}
		tx.Enqueue(probeArgs{Username: name}, &river.InsertOpts{Priority: 99})
		return nil
	})
	if err == nil {
		t.Fatal("a job with priority 99 was accepted")
	}
	if users, jobs := counts(t, st, name); users != 0 || jobs != 0 {
		t.Errorf("after the refused commit: %d users, %d jobs; want none", users, jobs)
	}
}
