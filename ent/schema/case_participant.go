package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// CaseParticipant is an address taking part in a case's email thread. The
// subject-tag threading rule only applies to mail from participants.
type CaseParticipant struct {
	ent.Schema
}

// Annotations of the CaseParticipant.
func (CaseParticipant) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("case_participants")}
}

// Mixin of the CaseParticipant.
func (CaseParticipant) Mixin() []ent.Mixin {
	return []ent.Mixin{CreatedAtMixin{}}
}

// Fields of the CaseParticipant.
func (CaseParticipant) Fields() []ent.Field {
	return []ent.Field{
		field.Int("case_id").
			Immutable(),
		field.String("email_normalized").
			NotEmpty().
			Immutable(),
		field.Enum("role").
			Values("requester", "cc", "staff"),
	}
}

// Edges of the CaseParticipant.
func (CaseParticipant) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("case", SupportCase.Type).
			Ref("participants").
			Field("case_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the CaseParticipant.
func (CaseParticipant) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("case_id", "email_normalized").Unique(),
		index.Fields("email_normalized"),
	}
}
