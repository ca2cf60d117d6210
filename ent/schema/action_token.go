package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ActionToken is a single-use secret sent in an emailed link. Only its hash
// is stored; used_at is set in the same statement that checks it is null,
// so a link works exactly once.
type ActionToken struct {
	ent.Schema
}

// Annotations of the ActionToken.
func (ActionToken) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("action_tokens")}
}

// Mixin of the ActionToken.
func (ActionToken) Mixin() []ent.Mixin {
	return []ent.Mixin{CreatedAtMixin{}}
}

// Fields of the ActionToken.
func (ActionToken) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("purpose").
			Values(
				"email_verification",
				"password_reset",
				"login_confirmation",
				"email_challenge",
				"reset_cancel",
				"case_status",
			).
			Immutable(),
		field.Bytes("token_hash").
			NotEmpty().
			Unique().
			Sensitive().
			Immutable(),
		field.Int("user_id").
			Optional().
			Nillable().
			Immutable(),
		// The address the link was sent to (for verification and challenges).
		field.String("email").
			Optional().
			Nillable().
			Immutable(),
		field.Int("case_id").
			Optional().
			Nillable().
			Immutable(),
		field.JSON("data", map[string]any{}).
			Optional(),
		field.Time("expires_at"),
		field.Time("used_at").
			Optional().
			Nillable(),
	}
}

// Edges of the ActionToken.
func (ActionToken) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).
			Ref("action_tokens").
			Field("user_id").
			Unique().
			Immutable(),
		edge.From("case", SupportCase.Type).
			Ref("action_tokens").
			Field("case_id").
			Unique().
			Immutable(),
	}
}

// Indexes of the ActionToken.
func (ActionToken) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "purpose"),
		index.Fields("case_id"),
		index.Fields("expires_at"),
	}
}
