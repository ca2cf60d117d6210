package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// RepoChallenge asks a requester to push a branch named with a case token
// to a project's public repository; a job looks for it with git ls-remote
// until it appears or the challenge expires.
type RepoChallenge struct {
	ent.Schema
}

// Annotations of the RepoChallenge.
func (RepoChallenge) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("repo_challenges")}
}

// Mixin of the RepoChallenge.
func (RepoChallenge) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}}
}

// Fields of the RepoChallenge.
func (RepoChallenge) Fields() []ent.Field {
	return []ent.Field{
		field.Int("case_id").
			Immutable(),
		field.Int("project_id").
			Immutable(),
		// The repository as it was when the challenge started, so a later
		// edit of the project cannot move the goalposts.
		field.String("repository_url").
			NotEmpty().
			Immutable(),
		field.String("branch").
			NotEmpty().
			Unique().
			Immutable(),
		// The staff member who started it.
		field.Int("started_by_id").
			Optional().
			Nillable().
			Immutable(),
		field.Enum("status").
			Values("pending", "found", "expired", "cancelled").
			Default("pending"),
		field.Time("expires_at"),
		field.Time("checked_at").
			Optional().
			Nillable(),
		field.Int("checks").
			Default(0),
		// The last check's error (unreachable host, ...), shown to staff.
		field.String("last_error").
			Default(""),
		field.Time("found_at").
			Optional().
			Nillable(),
		// The commit the branch pointed to when it was found.
		field.String("commit").
			Default(""),
	}
}

// Edges of the RepoChallenge.
func (RepoChallenge) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("case", SupportCase.Type).
			Ref("repo_challenges").
			Field("case_id").
			Unique().
			Required().
			Immutable(),
		edge.From("project", Project.Type).
			Ref("repo_challenges").
			Field("project_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the RepoChallenge.
func (RepoChallenge) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("case_id"),
	}
}
