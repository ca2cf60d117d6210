package store_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// TestSetLargeByteaStoresTheValue: a value bigger than one chunk arrives
// byte for byte, no large object outlives the transaction, and a rollback
// takes the value back with the rest.
func TestSetLargeByteaStoresTheValue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.Store(t)
	if _, err := st.Pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS store_test_blobs (id int PRIMARY KEY, data bytea NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 3<<20+12345) // three chunks and a bit
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.UintN(256))
	}
	var objectsBefore int
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_largeobject_metadata`).Scan(&objectsBefore); err != nil {
		t.Fatal(err)
	}

	err := st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		if _, err := tx.Pgx.Exec(ctx, `INSERT INTO store_test_blobs VALUES (1, '')`); err != nil {
			return err
		}
		return tx.SetLargeBytea(ctx, "store_test_blobs", "data", 1, data)
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	if err := st.Pool.QueryRow(ctx, `SELECT data FROM store_test_blobs WHERE id = 1`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("stored %d bytes, want the %d written", len(got), len(data))
	}
	var objectsAfter int
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_largeobject_metadata`).Scan(&objectsAfter); err != nil {
		t.Fatal(err)
	}
	if objectsAfter != objectsBefore {
		t.Errorf("%d large objects before, %d after: the temporary one was kept", objectsBefore, objectsAfter)
	}

	rollback := errors.New("roll back")
	err = st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		if _, err := tx.Pgx.Exec(ctx, `INSERT INTO store_test_blobs VALUES (2, '')`); err != nil {
			return err
		}
		if err := tx.SetLargeBytea(ctx, "store_test_blobs", "data", 2, data); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatalf("rolled back transaction: %v", err)
	}
	var n int
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM store_test_blobs WHERE id = 2`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("rolled back row: %d rows, %v", n, err)
	}

	// A row that is not there is an error, not a silent no-op.
	err = st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		return tx.SetLargeBytea(ctx, "store_test_blobs", "data", 99, data[:10])
	})
	if err == nil {
		t.Fatal("SetLargeBytea on a missing row succeeded")
	}
}
