package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/recoverydesk/recoverydesk/ent/schema/types"
)

// CaseSearch is a case's full-text document: its subject and the subjects
// and bodies of its messages. Database triggers keep it (see the
// case_search migration), so every writer, COPY included, feeds it; it
// lives apart from cases so that loading a case never loads it.
type CaseSearch struct {
	ent.Schema
}

// Annotations of the CaseSearch.
func (CaseSearch) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("case_search")}
}

// Fields of the CaseSearch.
func (CaseSearch) Fields() []ent.Field {
	return []ent.Field{
		field.Int("case_id").
			Unique().
			Immutable(),
		field.Other("document", types.TSVector("")).
			SchemaType(map[string]string{dialect.Postgres: "tsvector"}).
			Optional(),
	}
}

// Edges of the CaseSearch.
func (CaseSearch) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("case", SupportCase.Type).
			Ref("search").
			Field("case_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the CaseSearch.
func (CaseSearch) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("document").Annotations(entsql.IndexType("GIN")),
	}
}
