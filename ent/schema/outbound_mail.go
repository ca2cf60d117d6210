package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// OutboundMail is an email the system sends, with its delivery state, so
// "the email never arrived" can be answered: queued, sent, deferred,
// bounced or failed.
type OutboundMail struct {
	ent.Schema
}

// Annotations of the OutboundMail.
func (OutboundMail) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("outbound_mails")}
}

// Mixin of the OutboundMail.
func (OutboundMail) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}}
}

// Fields of the OutboundMail.
func (OutboundMail) Fields() []ent.Field {
	return []ent.Field{
		field.Int("case_id").
			Optional().
			Nillable(),
		field.Int("user_id").
			Optional().
			Nillable(),
		// What the mail is for, e.g. "password_changed", "case_reply".
		field.String("purpose").
			NotEmpty(),
		field.String("to_address").
			NotEmpty(),
		field.String("from_address").
			NotEmpty(),
		field.String("subject").
			Default(""),
		// Our own (signed) Message-ID, normalised like Message's; bounces
		// are matched back to the mail through it.
		field.String("message_id_header").
			NotEmpty().
			Unique().
			Immutable(),
		field.String("in_reply_to").
			Optional().
			Nillable(),
		field.Text("body_text").
			Default(""),
		field.Text("body_html").
			Optional().
			Nillable(),
		// Extra headers to send (References, Auto-Submitted, ...).
		field.JSON("headers", map[string]string{}).
			Optional(),
		field.Enum("status").
			Values("queued", "sending", "sent", "deferred", "bounced", "failed").
			Default("queued"),
		field.Int("attempts").
			Default(0).
			NonNegative(),
		field.Text("last_error").
			Optional().
			Nillable(),
		field.Time("sent_at").
			Optional().
			Nillable(),
		field.Time("bounced_at").
			Optional().
			Nillable(),
	}
}

// Edges of the OutboundMail.
func (OutboundMail) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("case", SupportCase.Type).
			Ref("outbound_mails").
			Field("case_id").
			Unique(),
		edge.From("user", User.Type).
			Ref("outbound_mails").
			Field("user_id").
			Unique(),
	}
}

// Indexes of the OutboundMail.
func (OutboundMail) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("case_id", "created_at"),
		index.Fields("user_id", "created_at"),
		index.Fields("to_address", "created_at"),
		index.Fields("status"),
	}
}
