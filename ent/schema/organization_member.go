package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// OrganizationMember is a user's membership of an organization; created_at
// is the "member since" date.
type OrganizationMember struct {
	ent.Schema
}

// Annotations of the OrganizationMember.
func (OrganizationMember) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("organization_members")}
}

// Mixin of the OrganizationMember.
func (OrganizationMember) Mixin() []ent.Mixin {
	return []ent.Mixin{CreatedAtMixin{}}
}

// Fields of the OrganizationMember.
func (OrganizationMember) Fields() []ent.Field {
	return []ent.Field{
		field.Int("organization_id").
			Immutable(),
		field.Int("user_id").
			Immutable(),
		field.Enum("role").
			Values("owner", "member").
			Default("member"),
	}
}

// Edges of the OrganizationMember.
func (OrganizationMember) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("organization", Organization.Type).
			Ref("members").
			Field("organization_id").
			Unique().
			Required().
			Immutable(),
		edge.From("user", User.Type).
			Ref("organization_memberships").
			Field("user_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the OrganizationMember.
func (OrganizationMember) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("organization_id", "user_id").Unique(),
		index.Fields("user_id"),
	}
}
