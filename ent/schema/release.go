package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Release is one version of a project.
type Release struct {
	ent.Schema
}

// Annotations of the Release.
func (Release) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("releases")}
}

// Mixin of the Release.
func (Release) Mixin() []ent.Mixin {
	return []ent.Mixin{CreatedAtMixin{}}
}

// Fields of the Release.
func (Release) Fields() []ent.Field {
	return []ent.Field{
		field.Int("project_id").
			Immutable(),
		field.String("version").
			NotEmpty().
			MaxLen(100).
			Immutable(),
	}
}

// Edges of the Release.
func (Release) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("project", Project.Type).
			Ref("releases").
			Field("project_id").
			Unique().
			Required().
			Immutable(),
		edge.To("files", ReleaseFile.Type).Annotations(cascade()),
	}
}

// Indexes of the Release.
func (Release) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("project_id", "version").Unique(),
	}
}
