package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// CasePresence records that a staff member has a case open: the case page
// refreshes seen_at every few seconds, and others viewing the case are
// warned while it is recent.
type CasePresence struct {
	ent.Schema
}

// Annotations of the CasePresence.
func (CasePresence) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("case_presence")}
}

// Fields of the CasePresence.
func (CasePresence) Fields() []ent.Field {
	return []ent.Field{
		field.Int("case_id").
			Immutable(),
		field.Int("user_id").
			Immutable(),
		field.Time("seen_at").
			Default(time.Now),
	}
}

// Edges of the CasePresence.
func (CasePresence) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("case", SupportCase.Type).
			Ref("presence").
			Field("case_id").
			Unique().
			Required().
			Immutable(),
		edge.From("user", User.Type).
			Ref("case_presence").
			Field("user_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the CasePresence.
func (CasePresence) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("case_id", "user_id").Unique(),
	}
}
