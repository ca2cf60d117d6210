package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ProjectRole gives a user a role on a project; created_at is "since".
type ProjectRole struct {
	ent.Schema
}

// Annotations of the ProjectRole.
func (ProjectRole) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("project_roles")}
}

// Mixin of the ProjectRole.
func (ProjectRole) Mixin() []ent.Mixin {
	return []ent.Mixin{CreatedAtMixin{}}
}

// Fields of the ProjectRole.
func (ProjectRole) Fields() []ent.Field {
	return []ent.Field{
		field.Int("project_id").
			Immutable(),
		field.Int("user_id").
			Immutable(),
		field.Enum("role").
			Values("owner", "maintainer"),
	}
}

// Edges of the ProjectRole.
func (ProjectRole) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("project", Project.Type).
			Ref("roles").
			Field("project_id").
			Unique().
			Required().
			Immutable(),
		edge.From("user", User.Type).
			Ref("project_roles").
			Field("user_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the ProjectRole.
func (ProjectRole) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("project_id", "user_id").Unique(),
		index.Fields("user_id"),
	}
}
