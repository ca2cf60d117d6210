package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// RecoveryCode is one single-use recovery code, stored hashed.
type RecoveryCode struct {
	ent.Schema
}

// Annotations of the RecoveryCode.
func (RecoveryCode) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("recovery_codes")}
}

// Mixin of the RecoveryCode.
func (RecoveryCode) Mixin() []ent.Mixin {
	return []ent.Mixin{CreatedAtMixin{}}
}

// Fields of the RecoveryCode.
func (RecoveryCode) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id").
			Immutable(),
		field.String("code_hash").
			NotEmpty().
			Sensitive().
			Immutable(),
		// Generation number: only codes of the user's newest batch are
		// valid, so regenerating voids the previous set at once.
		field.Int("batch").
			Immutable(),
		field.Time("used_at").
			Optional().
			Nillable(),
	}
}

// Edges of the RecoveryCode.
func (RecoveryCode) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).
			Ref("recovery_codes").
			Field("user_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the RecoveryCode.
func (RecoveryCode) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "batch"),
	}
}
