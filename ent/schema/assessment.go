package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Assessment is a versioned summary of a case's evidence into a
// recommendation with reasons; the highest version is current.
type Assessment struct {
	ent.Schema
}

// Annotations of the Assessment.
func (Assessment) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("assessments")}
}

// Mixin of the Assessment.
func (Assessment) Mixin() []ent.Mixin {
	return []ent.Mixin{CreatedAtMixin{}}
}

// Fields of the Assessment.
func (Assessment) Fields() []ent.Field {
	return []ent.Field{
		field.Int("case_id").
			Immutable(),
		field.Int("version").
			Positive().
			Immutable(),
		field.Enum("recommendation").
			Values("approve", "challenge", "need_more_info", "deny", "none").
			Immutable(),
		field.JSON("reasons", []string{}).
			Default([]string{}).
			Immutable(),
	}
}

// Edges of the Assessment.
func (Assessment) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("case", SupportCase.Type).
			Ref("assessments").
			Field("case_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the Assessment.
func (Assessment) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("case_id", "version").Unique(),
	}
}
