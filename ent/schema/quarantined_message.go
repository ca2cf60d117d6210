package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// QuarantinedMessage is a fetched message that could not be parsed or
// stored. It keeps the raw bytes and the reason so an admin can retry it,
// and it never blocks the messages after it.
type QuarantinedMessage struct {
	ent.Schema
}

// Annotations of the QuarantinedMessage.
func (QuarantinedMessage) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("quarantined_messages")}
}

// Mixin of the QuarantinedMessage.
func (QuarantinedMessage) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}}
}

// Fields of the QuarantinedMessage.
func (QuarantinedMessage) Fields() []ent.Field {
	return []ent.Field{
		field.String("mailbox").
			NotEmpty().
			Immutable(),
		field.Uint32("imap_uid").
			Immutable(),
		field.Uint32("imap_uidvalidity").
			Immutable(),
		field.Bytes("raw").
			Immutable(),
		// Why the message was quarantined (the last error on retry).
		field.Text("error"),
		field.Enum("status").
			Values("pending", "retried", "discarded").
			Default("pending"),
	}
}

// Indexes of the QuarantinedMessage.
func (QuarantinedMessage) Indexes() []ent.Index {
	return []ent.Index{
		// Re-fetching the same message quarantines it only once.
		index.Fields("mailbox", "imap_uidvalidity", "imap_uid").Unique(),
		index.Fields("status", "created_at"),
	}
}
