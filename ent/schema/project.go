package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Project is a package on the index.
type Project struct {
	ent.Schema
}

// Annotations of the Project.
func (Project) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("projects")}
}

// Mixin of the Project.
func (Project) Mixin() []ent.Mixin {
	return []ent.Mixin{CreatedAtMixin{}}
}

// Fields of the Project.
func (Project) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").
			NotEmpty().
			MaxLen(200),
		// Normalised per the index's rules (lower case, runs of -_. as -).
		field.String("name_normalized").
			NotEmpty().
			MaxLen(200).
			Unique(),
		field.Int("organization_id").
			Optional().
			Nillable(),
		// Public source repository; the evidence jobs run git ls-remote on it.
		field.String("repository_url").
			Optional().
			Nillable(),
		field.String("description").
			Optional().
			Nillable(),
	}
}

// Edges of the Project.
func (Project) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("organization", Organization.Type).
			Ref("projects").
			Field("organization_id").
			Unique(),
		edge.To("roles", ProjectRole.Type).Annotations(cascade()),
		edge.To("releases", Release.Type).Annotations(cascade()),
		// Cascade: a token scoped to a deleted project must not survive
		// (a null project would widen it to the whole account).
		edge.To("api_tokens", APIToken.Type).Annotations(cascade()),
		edge.To("repo_challenges", RepoChallenge.Type).Annotations(cascade()),
	}
}

// Indexes of the Project.
func (Project) Indexes() []ent.Index {
	return []ent.Index{
		// An organization's projects, listed by name and counted on its
		// page and on its members' project pages.
		index.Fields("organization_id", "name_normalized"),
	}
}
