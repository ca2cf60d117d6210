package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Attachment is a file attached to a message, stored in the database
// (size-limited at ingestion).
type Attachment struct {
	ent.Schema
}

// Annotations of the Attachment.
func (Attachment) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("attachments")}
}

// Mixin of the Attachment.
func (Attachment) Mixin() []ent.Mixin {
	return []ent.Mixin{CreatedAtMixin{}}
}

// Fields of the Attachment.
func (Attachment) Fields() []ent.Field {
	return []ent.Field{
		field.Int("message_id").
			Immutable(),
		field.String("filename").
			Default("").
			Immutable(),
		field.String("content_type").
			Default("application/octet-stream").
			Immutable(),
		field.Int64("size").
			NonNegative().
			Immutable(),
		field.String("sha256").
			NotEmpty().
			Immutable(),
		field.Bytes("data").
			Immutable(),
	}
}

// Edges of the Attachment.
func (Attachment) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("message", Message.Type).
			Ref("attachments").
			Field("message_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the Attachment.
func (Attachment) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("message_id"),
	}
}
