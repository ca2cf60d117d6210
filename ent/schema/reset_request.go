package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ResetRequest is an approved 2FA reset of an account, executed by a job
// once the waiting period has passed unless someone cancelled it through
// the link mailed to every verified address.
type ResetRequest struct {
	ent.Schema
}

// Annotations of the ResetRequest.
func (ResetRequest) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("reset_requests")}
}

// Mixin of the ResetRequest.
func (ResetRequest) Mixin() []ent.Mixin {
	return []ent.Mixin{CreatedAtMixin{}}
}

// Fields of the ResetRequest.
func (ResetRequest) Fields() []ent.Field {
	return []ent.Field{
		field.Int("case_id").
			Immutable(),
		// The account whose 2FA is reset.
		field.Int("user_id").
			Immutable(),
		field.Int("approved_by_id").
			Immutable(),
		field.Int("second_approver_id").
			Optional().
			Nillable(),
		field.Text("reason").
			NotEmpty().
			Immutable(),
		field.Time("scheduled_for"),
		field.Enum("status").
			Values("scheduled", "cancelled", "done").
			Default("scheduled"),
		// A verified address to set on the account when the reset runs.
		field.String("new_email").
			Optional().
			Nillable(),
		field.Bytes("cancel_token_hash").
			NotEmpty().
			Unique().
			Sensitive().
			Immutable(),
		field.Time("executed_at").
			Optional().
			Nillable(),
		field.Time("cancelled_at").
			Optional().
			Nillable(),
	}
}

// Edges of the ResetRequest.
func (ResetRequest) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("case", SupportCase.Type).
			Ref("reset_requests").
			Field("case_id").
			Unique().
			Required().
			Immutable(),
		edge.From("user", User.Type).
			Ref("reset_requests").
			Field("user_id").
			Unique().
			Required().
			Immutable(),
		edge.From("approved_by", User.Type).
			Ref("approved_resets").
			Field("approved_by_id").
			Unique().
			Required().
			Immutable(),
		edge.From("second_approver", User.Type).
			Ref("second_approved_resets").
			Field("second_approver_id").
			Unique(),
		edge.To("approvals", ResetApproval.Type),
	}
}

// Indexes of the ResetRequest.
func (ResetRequest) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("status", "scheduled_for"),
		index.Fields("case_id"),
		index.Fields("user_id"),
	}
}
