package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/recoverydesk/recoverydesk/ent/schema/types"
)

// SupportCase is a desk case: an account-recovery request or a general
// support question. (Named SupportCase because ent rejects "Case", a Go
// keyword once lower-cased; the table is still "cases".)
type SupportCase struct {
	ent.Schema
}

// Annotations of the SupportCase.
func (SupportCase) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("cases")}
}

// Mixin of the SupportCase.
func (SupportCase) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}}
}

// Fields of the SupportCase.
func (SupportCase) Fields() []ent.Field {
	return []ent.Field{
		// Short public reference, e.g. "RD-7K3F9Q".
		field.String("reference").
			NotEmpty().
			Unique().
			Immutable(),
		field.Enum("kind").
			Values("recovery", "general").
			Default("recovery"),
		field.Enum("status").
			Values(
				"new",
				"waiting_on_requester",
				"waiting_on_challenge",
				"ready_for_decision",
				"reset_scheduled",
				"resolved",
				"denied",
				"closed",
			).
			Default("new"),
		field.String("subject").
			Default(""),
		field.String("requester_name").
			Default(""),
		field.String("requester_email").
			NotEmpty(),
		field.String("requester_email_normalized").
			NotEmpty(),
		// The username the requester says is theirs (may not exist).
		field.String("claimed_username").
			Optional().
			Nillable(),
		// The account the case is about, once known.
		field.Int("account_id").
			Optional().
			Nillable(),
		field.JSON("intake", types.CaseIntake{}).
			Optional(),
		// Hash of the secret in the requester's status link.
		field.Bytes("status_token_hash").
			NotEmpty().
			Unique().
			Sensitive(),
		field.Int("assignee_id").
			Optional().
			Nillable(),
		field.JSON("tags", []string{}).
			Default([]string{}),
		field.Int("risk").
			Default(0),
		// Latest assessment recommendation, denormalised for the queue.
		field.String("recommendation").
			Optional().
			Nillable(),
		field.Time("first_response_due").
			Optional().
			Nillable(),
		field.Time("resolution_due").
			Optional().
			Nillable(),
		field.Time("first_responded_at").
			Optional().
			Nillable(),
		// The next SLA deadline: first_response_due until the first
		// public reply, then resolution_due; null once the case is
		// settled. The queue sorts by it.
		field.Time("sla_due").
			Optional().
			Nillable(),
		// When the case last reached resolved, denied or closed.
		field.Time("resolved_at").
			Optional().
			Nillable(),
		field.Time("last_activity_at").
			Default(time.Now),
		// Set when this case was merged into another (the survivor).
		field.Int("merged_into_id").
			Optional().
			Nillable(),
	}
}

// Edges of the SupportCase.
func (SupportCase) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("account", User.Type).
			Ref("cases").
			Field("account_id").
			Unique(),
		edge.From("assignee", User.Type).
			Ref("assigned_cases").
			Field("assignee_id").
			Unique(),
		edge.To("merged_cases", SupportCase.Type).
			From("merged_into").
			Field("merged_into_id").
			Unique(),
		edge.To("participants", CaseParticipant.Type).Annotations(cascade()),
		edge.To("messages", Message.Type),
		edge.To("outbound_mails", OutboundMail.Type),
		edge.To("action_tokens", ActionToken.Type).Annotations(cascade()),
		edge.To("evidence_items", EvidenceItem.Type).Annotations(cascade()),
		edge.To("assessments", Assessment.Type).Annotations(cascade()),
		edge.To("events", CaseEvent.Type).Annotations(cascade()),
		edge.To("reset_requests", ResetRequest.Type).Annotations(cascade()),
		edge.To("repo_challenges", RepoChallenge.Type).Annotations(cascade()),
		edge.To("reset_approvals", ResetApproval.Type).Annotations(cascade()),
		edge.To("presence", CasePresence.Type).Annotations(cascade()),
		edge.To("search", CaseSearch.Type).Unique().Annotations(cascade()),
	}
}

// Indexes of the SupportCase.
func (SupportCase) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("status", "last_activity_at"),
		index.Fields("assignee_id", "status"),
		index.Fields("requester_email_normalized"),
		index.Fields("account_id"),
		index.Fields("merged_into_id"),
		// Keyset pagination of the queue: one index per sort order.
		index.Fields("sla_due", "id"),
		index.Fields("last_activity_at", "id"),
		index.Fields("created_at", "id"),
		index.Fields("risk", "id"),
		index.Fields("tags").Annotations(entsql.IndexType("GIN")),
		// The same orders over open cases only (about a tenth of all at
		// scale), which the queue shows by default; the filtered views
		// of a million cases read far fewer rows through them. The
		// condition must name exactly desk.OpenStatuses (a desk test
		// checks it) and match the queue's SQL.
		index.Fields("sla_due", "id").StorageKey("supportcase_open_sla_due_id").Annotations(entsql.IndexWhere(openCase)),
		index.Fields("last_activity_at", "id").StorageKey("supportcase_open_last_activity_at_id").Annotations(entsql.IndexWhere(openCase)),
		index.Fields("created_at", "id").StorageKey("supportcase_open_created_at_id").Annotations(entsql.IndexWhere(openCase)),
		index.Fields("risk", "id").StorageKey("supportcase_open_risk_id").Annotations(entsql.IndexWhere(openCase)),
		index.Fields("sla_due", "id").StorageKey("supportcase_open_unassigned_sla_due_id").Annotations(entsql.IndexWhere("(assignee_id IS NULL) AND " + openCase)),
	}
}

// openCase is the condition of the open-case indexes, written as
// PostgreSQL prints it back (pg_get_expr): the migration diff compares
// the text, and any other spelling would rebuild the indexes on every
// diff.
const openCase = "(merged_into_id IS NULL) AND ((status)::text = ANY (ARRAY['new'::text, 'waiting_on_requester'::text, 'waiting_on_challenge'::text, 'ready_for_decision'::text, 'reset_scheduled'::text]))"
