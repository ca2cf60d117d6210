package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// TOTPCredential is the authenticator-app secret of an account (at most one).
type TOTPCredential struct {
	ent.Schema
}

// Annotations of the TOTPCredential.
func (TOTPCredential) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("totp_credentials")}
}

// Mixin of the TOTPCredential.
func (TOTPCredential) Mixin() []ent.Mixin {
	return []ent.Mixin{CreatedAtMixin{}}
}

// Fields of the TOTPCredential.
func (TOTPCredential) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id").
			Unique().
			Immutable(),
		field.Bytes("secret").
			Sensitive().
			NotEmpty(),
		// Time step of the last accepted code: a code whose step is not
		// newer is refused, which makes codes single-use.
		field.Int64("last_used_step").
			Default(0),
		// Null until the user proved the app works by entering a code.
		field.Time("confirmed_at").
			Optional().
			Nillable(),
	}
}

// Edges of the TOTPCredential.
func (TOTPCredential) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).
			Ref("totp_credential").
			Field("user_id").
			Unique().
			Required().
			Immutable(),
	}
}
