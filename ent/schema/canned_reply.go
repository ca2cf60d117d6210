package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// CannedReply is a reusable reply text for the desk ("we need more
// information", ...).
type CannedReply struct {
	ent.Schema
}

// Annotations of the CannedReply.
func (CannedReply) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("canned_replies")}
}

// Mixin of the CannedReply.
func (CannedReply) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}}
}

// Fields of the CannedReply.
func (CannedReply) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").
			NotEmpty().
			MaxLen(100).
			Unique(),
		field.Text("body").
			NotEmpty(),
		field.Int("created_by_id").
			Optional().
			Nillable().
			Immutable(),
	}
}

// Edges of the CannedReply.
func (CannedReply) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("created_by", User.Type).
			Ref("canned_replies").
			Field("created_by_id").
			Unique().
			Immutable(),
	}
}
