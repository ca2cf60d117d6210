// Package audit keeps the append-only audit log as a hash chain: each row's
// hash covers its own content and the previous row's hash, so editing or
// deleting any row breaks the chain at (or just after) that row, and Verify
// names where.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/auditevent"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// lockKey is the pg_advisory_xact_lock key that serialises appends, so two
// transactions cannot both chain onto the same previous row. Arbitrary but
// fixed ("audit" in ASCII).
const lockKey int64 = 0x6175646974

// hashVersion starts every hashed encoding, so a future change of encoding
// can be told apart from tampering.
const hashVersion = "recoverydesk-audit-v1"

// verifyBatch is how many rows Verify reads at a time.
const verifyBatch = 1000

// Entry is one event to append.
type Entry struct {
	ActorID    *int // nil for the system or an anonymous actor
	ActorLabel string
	Action     string
	TargetType string
	TargetID   string
	Details    map[string]any
	At         time.Time // zero means now
}

// Append adds e to the log inside tx; the row exists only if tx commits.
// Appends are serialised by a transaction-scoped advisory lock held until
// tx ends, which relies on tx being READ COMMITTED (the default): the read
// of the last row after the lock must see the row the previous holder
// committed.
func Append(ctx context.Context, tx *store.Tx, e Entry) (*ent.AuditEvent, error) {
	if e.ActorLabel == "" {
		return nil, errors.New("audit: append: actor label is empty")
	}
	if e.Action == "" {
		return nil, errors.New("audit: append: action is empty")
	}
	details, err := normalise(e.Details)
	if err != nil {
		return nil, fmt.Errorf("audit: append %s: %w", e.Action, err)
	}
	at := e.At
	if at.IsZero() {
		at = time.Now()
	}
	// PostgreSQL keeps microseconds; hash exactly what will be read back.
	at = at.UTC().Truncate(time.Microsecond)

	if _, err := tx.Pgx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey); err != nil {
		return nil, fmt.Errorf("audit: append %s: lock: %w", e.Action, err)
	}
	prev := []byte{}
	err = tx.Pgx.QueryRow(ctx, "SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1").Scan(&prev)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("audit: append %s: read last hash: %w", e.Action, err)
	}
	row := &ent.AuditEvent{
		ActorID:    e.ActorID,
		ActorLabel: e.ActorLabel,
		Action:     e.Action,
		TargetType: e.TargetType,
		TargetID:   e.TargetID,
		Details:    details,
		PrevHash:   prev,
		CreatedAt:  at,
	}
	sum, err := hashOf(row)
	if err != nil {
		return nil, fmt.Errorf("audit: append %s: %w", e.Action, err)
	}
	create := tx.Ent.AuditEvent.Create().
		SetNillableActorID(e.ActorID).
		SetActorLabel(e.ActorLabel).
		SetAction(e.Action).
		SetTargetType(e.TargetType).
		SetTargetID(e.TargetID).
		SetPrevHash(prev).
		SetHash(sum).
		SetCreatedAt(at)
	if details != nil {
		create.SetDetails(details)
	}
	saved, err := create.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: append %s: insert: %w", e.Action, err)
	}
	return saved, nil
}

// normalise round-trips details through JSON, so the map that is hashed is
// the one that comes back from the jsonb column (structs become maps,
// numbers become float64).
func normalise(details map[string]any) (map[string]any, error) {
	if details == nil {
		return nil, nil
	}
	b, err := json.Marshal(details)
	if err != nil {
		return nil, fmt.Errorf("details: %w", err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("details: %w", err)
	}
	return out, nil
}

// hashOf is SHA-256 over a length-prefixed encoding of the row's content,
// so no field's bytes can be moved into its neighbour. Details are encoded
// as JSON with sorted keys (json.Marshal sorts map keys).
func hashOf(r *ent.AuditEvent) ([]byte, error) {
	details, err := json.Marshal(r.Details)
	if err != nil {
		return nil, fmt.Errorf("encode details: %w", err)
	}
	actor := "" // distinct from every decimal id
	if r.ActorID != nil {
		actor = strconv.Itoa(*r.ActorID)
	}
	var buf bytes.Buffer
	for _, field := range [][]byte{
		[]byte(hashVersion),
		r.PrevHash,
		[]byte(actor),
		[]byte(r.ActorLabel),
		[]byte(r.Action),
		[]byte(r.TargetType),
		[]byte(r.TargetID),
		details,
		[]byte(r.CreatedAt.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)),
	} {
		buf.Write(binary.BigEndian.AppendUint64(nil, uint64(len(field))))
		buf.Write(field)
	}
	sum := sha256.Sum256(buf.Bytes())
	return sum[:], nil
}

// Result is the outcome of Verify.
type Result struct {
	Rows        int     // rows checked
	FirstBroken *Broken // nil when the whole chain holds
}

// Broken names the first row at which the chain fails.
type Broken struct {
	ID     int
	At     time.Time
	Action string
	Reason string
}

// Verify walks the log in id order, recomputing each row's hash and
// checking it links to the row before. It stops at the first broken row;
// a deleted row shows as the next row's prev_hash not matching.
func Verify(ctx context.Context, client *ent.Client) (Result, error) {
	var res Result
	var prevHash []byte
	prevID := 0 // 0: no row seen yet
	for {
		// Keyset on id, not OFFSET: each batch is an index range scan.
		rows, err := client.AuditEvent.Query().
			Where(auditevent.IDGT(prevID)).
			Order(ent.Asc(auditevent.FieldID)).
			Limit(verifyBatch).
			All(ctx)
		if err != nil {
			return res, fmt.Errorf("audit: verify: read rows after id %d: %w", prevID, err)
		}
		for _, r := range rows {
			res.Rows++
			reason := ""
			sum, err := hashOf(r)
			switch {
			case err != nil:
				reason = "cannot encode its contents: " + err.Error()
			case !bytes.Equal(sum, r.Hash):
				reason = "hash does not match its contents"
			case prevID == 0 && len(r.PrevHash) != 0:
				reason = "prev_hash is not empty, but no row precedes it"
			case prevID != 0 && !bytes.Equal(r.PrevHash, prevHash):
				reason = fmt.Sprintf("prev_hash does not match row %d's hash", prevID)
			}
			if reason != "" {
				res.FirstBroken = &Broken{ID: r.ID, At: r.CreatedAt, Action: r.Action, Reason: reason}
				return res, nil
			}
			prevID, prevHash = r.ID, r.Hash
		}
		if len(rows) < verifyBatch {
			return res, nil
		}
	}
}
