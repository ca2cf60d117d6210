package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// LargeBytea is the size above which a bytea value should go through
// SetLargeBytea rather than as a query parameter.
const LargeBytea = 8 << 20

// byteaChunk is how much of a large value one round trip carries.
const byteaChunk = 1 << 20

// SetLargeBytea stores data in column of the row of table whose id is id,
// in this transaction, without a copy of data on our side: as a query
// parameter pgx would copy the whole value into its send buffer, growing
// it by appending, so a 50 MiB mail would take three times its size in
// memory. The bytes go to a temporary large object in chunks; PostgreSQL
// then copies the object into the column and drops it.
func (tx *Tx) SetLargeBytea(ctx context.Context, table, column string, id int, data []byte) error {
	los := tx.Pgx.LargeObjects()
	oid, err := los.Create(ctx, 0)
	if err != nil {
		return fmt.Errorf("store: %s.%s of %d: create large object: %w", table, column, id, err)
	}
	obj, err := los.Open(ctx, oid, pgx.LargeObjectModeWrite)
	if err != nil {
		return fmt.Errorf("store: %s.%s of %d: open large object: %w", table, column, id, err)
	}
	for off := 0; off < len(data); off += byteaChunk {
		if _, err := obj.Write(data[off:min(off+byteaChunk, len(data))]); err != nil {
			return fmt.Errorf("store: %s.%s of %d: write large object: %w", table, column, id, err)
		}
	}
	if err := obj.Close(); err != nil {
		return fmt.Errorf("store: %s.%s of %d: close large object: %w", table, column, id, err)
	}
	q := fmt.Sprintf("UPDATE %s SET %s = lo_get($1) WHERE id = $2", pgx.Identifier{table}.Sanitize(), pgx.Identifier{column}.Sanitize())
	tag, err := tx.Pgx.Exec(ctx, q, oid, id)
	if err != nil {
		return fmt.Errorf("store: %s.%s of %d: copy large object: %w", table, column, id, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("store: %s.%s of %d: no such row", table, column, id)
	}
	if err := los.Unlink(ctx, oid); err != nil {
		return fmt.Errorf("store: %s.%s of %d: drop large object: %w", table, column, id, err)
	}
	return nil
}
