package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/recoverydesk/recoverydesk/ent/schema/types"
)

// EvidenceItem is one finding of an ownership-evidence job for a case.
type EvidenceItem struct {
	ent.Schema
}

// Annotations of the EvidenceItem.
func (EvidenceItem) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("evidence_items")}
}

// Mixin of the EvidenceItem.
func (EvidenceItem) Mixin() []ent.Mixin {
	return []ent.Mixin{CreatedAtMixin{}}
}

// Fields of the EvidenceItem.
func (EvidenceItem) Fields() []ent.Field {
	return []ent.Field{
		field.Int("case_id").
			Immutable(),
		// What was checked, e.g. "email_challenge", "repo_branch".
		field.String("kind").
			NotEmpty(),
		// Where the finding comes from (job name, repository URL, ...).
		field.String("source").
			Default(""),
		field.JSON("finding", types.Finding{}).
			Optional(),
		field.Enum("strength").
			Values("proof_of_control", "private_knowledge", "public_knowledge", "red_flag"),
		// Makes re-running a job idempotent: one item per key per case.
		field.String("dedupe_key").
			NotEmpty().
			Immutable(),
	}
}

// Edges of the EvidenceItem.
func (EvidenceItem) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("case", SupportCase.Type).
			Ref("evidence_items").
			Field("case_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the EvidenceItem.
func (EvidenceItem) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("case_id", "dedupe_key").Unique(),
	}
}
