package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// CaseEvent is a timeline entry of a case: status change, assignment,
// tagging, merge.
type CaseEvent struct {
	ent.Schema
}

// Annotations of the CaseEvent.
func (CaseEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("case_events")}
}

// Mixin of the CaseEvent.
func (CaseEvent) Mixin() []ent.Mixin {
	return []ent.Mixin{CreatedAtMixin{}}
}

// Fields of the CaseEvent.
func (CaseEvent) Fields() []ent.Field {
	return []ent.Field{
		field.Int("case_id").
			Immutable(),
		// Null for events caused by the system (jobs, incoming mail).
		field.Int("actor_id").
			Optional().
			Nillable().
			Immutable(),
		field.String("kind").
			NotEmpty().
			Immutable(),
		field.JSON("details", map[string]any{}).
			Optional().
			Immutable(),
	}
}

// Edges of the CaseEvent.
func (CaseEvent) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("case", SupportCase.Type).
			Ref("events").
			Field("case_id").
			Unique().
			Required().
			Immutable(),
		edge.From("actor", User.Type).
			Ref("case_events").
			Field("actor_id").
			Unique().
			Immutable(),
	}
}

// Indexes of the CaseEvent.
func (CaseEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("case_id", "created_at"),
	}
}
