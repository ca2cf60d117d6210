package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// APIToken is an upload token, shown once and stored hashed. Its scope is
// the whole account (no project) or one project.
type APIToken struct {
	ent.Schema
}

// Annotations of the APIToken.
func (APIToken) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("api_tokens")}
}

// Mixin of the APIToken.
func (APIToken) Mixin() []ent.Mixin {
	return []ent.Mixin{CreatedAtMixin{}}
}

// Fields of the APIToken.
func (APIToken) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id").
			Immutable(),
		field.String("name").
			NotEmpty().
			MaxLen(100),
		// Recognisable public start of the token (e.g. "rdt_ab12"), shown in
		// lists so users can tell tokens apart.
		field.String("prefix").
			NotEmpty().
			Immutable(),
		field.Bytes("token_hash").
			NotEmpty().
			Unique().
			Sensitive().
			Immutable(),
		// Scope: null means every project of the account.
		field.Int("project_id").
			Optional().
			Nillable().
			Immutable(),
		field.Time("expires_at").
			Optional().
			Nillable(),
		field.Time("last_used_at").
			Optional().
			Nillable(),
		field.Time("revoked_at").
			Optional().
			Nillable(),
	}
}

// Edges of the APIToken.
func (APIToken) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).
			Ref("api_tokens").
			Field("user_id").
			Unique().
			Required().
			Immutable(),
		edge.From("project", Project.Type).
			Ref("api_tokens").
			Field("project_id").
			Unique().
			Immutable(),
		edge.To("uploads", ReleaseFile.Type),
	}
}

// Indexes of the APIToken.
func (APIToken) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id"),
		index.Fields("project_id"),
	}
}
