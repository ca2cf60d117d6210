package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ResetApproval is one admin's approval of a case's 2FA reset, with the
// reason given. A reset is scheduled by an approval when the assessment
// recommends it, or else by the approvals of two different admins; the
// approvals that scheduled a reset point at it, and approvals not yet used
// wait for the second admin.
type ResetApproval struct {
	ent.Schema
}

// Annotations of the ResetApproval.
func (ResetApproval) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("reset_approvals")}
}

// Mixin of the ResetApproval.
func (ResetApproval) Mixin() []ent.Mixin {
	return []ent.Mixin{CreatedAtMixin{}}
}

// Fields of the ResetApproval.
func (ResetApproval) Fields() []ent.Field {
	return []ent.Field{
		field.Int("case_id").
			Immutable(),
		field.Int("admin_id").
			Immutable(),
		field.Text("reason").
			NotEmpty().
			Immutable(),
		// The assessment's recommendation when the admin approved.
		field.String("recommendation").
			Default("").
			Immutable(),
		// The reset this approval scheduled; null while it waits for a
		// second admin.
		field.Int("reset_request_id").
			Optional().
			Nillable(),
		// Set when the approval no longer counts (the reset was cancelled
		// or the case denied before a second admin agreed).
		field.Time("voided_at").
			Optional().
			Nillable(),
	}
}

// Edges of the ResetApproval.
func (ResetApproval) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("case", SupportCase.Type).
			Ref("reset_approvals").
			Field("case_id").
			Unique().
			Required().
			Immutable(),
		edge.From("admin", User.Type).
			Ref("reset_approvals").
			Field("admin_id").
			Unique().
			Required().
			Immutable(),
		edge.From("reset_request", ResetRequest.Type).
			Ref("approvals").
			Field("reset_request_id").
			Unique(),
	}
}

// Indexes of the ResetApproval.
func (ResetApproval) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("case_id", "created_at"),
	}
}
