package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AuditEvent is a row of the append-only audit log. Each row's hash covers
// its content and the previous row's hash, so any edit or deletion breaks
// the chain; every field is immutable.
type AuditEvent struct {
	ent.Schema
}

// Annotations of the AuditEvent.
func (AuditEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("audit_events")}
}

// Mixin of the AuditEvent.
func (AuditEvent) Mixin() []ent.Mixin {
	return []ent.Mixin{CreatedAtMixin{}}
}

// Fields of the AuditEvent.
func (AuditEvent) Fields() []ent.Field {
	return []ent.Field{
		field.Int("actor_id").
			Optional().
			Nillable().
			Immutable(),
		// Human-readable actor ("admin alice", "system"), kept even if the
		// user is renamed.
		field.String("actor_label").
			NotEmpty().
			Immutable(),
		field.String("action").
			NotEmpty().
			Immutable(),
		field.String("target_type").
			Default("").
			Immutable(),
		field.String("target_id").
			Default("").
			Immutable(),
		field.JSON("details", map[string]any{}).
			Optional().
			Immutable(),
		// Hash of the previous row (empty for the first row).
		field.Bytes("prev_hash").
			Immutable(),
		field.Bytes("hash").
			NotEmpty().
			Unique().
			Immutable(),
	}
}

// Edges of the AuditEvent.
func (AuditEvent) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("actor", User.Type).
			Ref("audit_events").
			Field("actor_id").
			Unique().
			Immutable(),
	}
}

// Indexes of the AuditEvent.
func (AuditEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("target_type", "target_id"),
		index.Fields("actor_id"),
	}
}
