package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Message is one entry of a case thread: an inbound email, an outbound
// reply, a web submission or an internal note.
type Message struct {
	ent.Schema
}

// Annotations of the Message.
func (Message) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("messages")}
}

// Mixin of the Message.
func (Message) Mixin() []ent.Mixin {
	return []ent.Mixin{CreatedAtMixin{}}
}

// Fields of the Message.
func (Message) Fields() []ent.Field {
	return []ent.Field{
		field.Int("case_id").
			Optional().
			Nillable(),
		// IMAP mailbox the message was fetched from; null for messages that
		// did not arrive by IMAP.
		field.String("mailbox").
			Optional().
			Nillable().
			Immutable(),
		// RFC 5322 Message-ID, normalised (no angle brackets, lower-case
		// domain part); with mailbox it makes each message stored once.
		field.String("message_id_header").
			NotEmpty().
			Immutable(),
		field.String("in_reply_to").
			Optional().
			Nillable().
			Immutable(),
		field.JSON("references", []string{}).
			Default([]string{}).
			Immutable(),
		field.Enum("direction").
			Values("inbound", "outbound", "note").
			Immutable(),
		field.Enum("visibility").
			Values("public", "internal").
			Default("public"),
		field.Enum("channel").
			Values("email", "web", "desk").
			Immutable(),
		field.String("from_address").
			Default("").
			Immutable(),
		field.String("from_name").
			Default("").
			Immutable(),
		field.JSON("to", []string{}).
			Default([]string{}).
			Immutable(),
		field.JSON("cc", []string{}).
			Default([]string{}).
			Immutable(),
		field.String("subject").
			Default("").
			Immutable(),
		field.Text("body_text").
			Default("").
			Immutable(),
		// Sanitised HTML, safe to render.
		field.Text("body_html").
			Optional().
			Nillable().
			Immutable(),
		// Staff user who wrote an outbound reply or note.
		field.Int("author_id").
			Optional().
			Nillable().
			Immutable(),
		// The original message as received.
		field.Bytes("raw").
			Optional().
			Immutable(),
		field.Uint32("imap_uid").
			Optional().
			Nillable().
			Immutable(),
		field.Uint32("imap_uidvalidity").
			Optional().
			Nillable().
			Immutable(),
		// Auto-replies, bulk and list mail: never answered automatically.
		field.Bool("auto_submitted").
			Default(false).
			Immutable(),
		field.Time("received_at").
			Default(time.Now).
			Immutable(),
	}
}

// Edges of the Message.
func (Message) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("case", SupportCase.Type).
			Ref("messages").
			Field("case_id").
			Unique(),
		edge.From("author", User.Type).
			Ref("authored_messages").
			Field("author_id").
			Unique().
			Immutable(),
		edge.To("attachments", Attachment.Type).Annotations(cascade()),
	}
}

// Indexes of the Message.
func (Message) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("mailbox", "message_id_header").Unique(),
		// Threading looks messages up by Message-ID whatever the mailbox.
		index.Fields("message_id_header"),
		index.Fields("case_id", "created_at"),
	}
}
