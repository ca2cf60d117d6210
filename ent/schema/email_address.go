package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// EmailAddress is an address on an account. One is primary; only verified
// addresses receive security mail and recovery challenges.
type EmailAddress struct {
	ent.Schema
}

// Annotations of the EmailAddress.
func (EmailAddress) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("email_addresses")}
}

// Mixin of the EmailAddress.
func (EmailAddress) Mixin() []ent.Mixin {
	return []ent.Mixin{CreatedAtMixin{}}
}

// Fields of the EmailAddress.
func (EmailAddress) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id").
			Immutable(),
		field.String("address").
			NotEmpty().
			MaxLen(320),
		// Lower-cased address used for lookups and uniqueness.
		field.String("address_normalized").
			NotEmpty().
			MaxLen(320),
		field.Bool("primary").
			Default(false),
		field.Time("verified_at").
			Optional().
			Nillable(),
	}
}

// Edges of the EmailAddress.
func (EmailAddress) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).
			Ref("emails").
			Field("user_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the EmailAddress.
func (EmailAddress) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("address_normalized"),
		index.Fields("user_id", "address_normalized").Unique(),
	}
}
