package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
)

// MailboxCheckpoint is how far an IMAP mailbox has been fetched, and which
// worker currently holds the lease to fetch it.
type MailboxCheckpoint struct {
	ent.Schema
}

// Annotations of the MailboxCheckpoint.
func (MailboxCheckpoint) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("mailbox_checkpoints")}
}

// Mixin of the MailboxCheckpoint.
func (MailboxCheckpoint) Mixin() []ent.Mixin {
	return []ent.Mixin{UpdatedAtMixin{}}
}

// Fields of the MailboxCheckpoint.
func (MailboxCheckpoint) Fields() []ent.Field {
	return []ent.Field{
		field.String("mailbox").
			NotEmpty().
			Unique().
			Immutable(),
		// A changed UIDVALIDITY invalidates last_uid: fetch from the start
		// (message-ID deduplication keeps that harmless).
		field.Uint32("uidvalidity").
			Default(0),
		field.Uint32("last_uid").
			Default(0),
		field.String("lease_owner").
			Optional().
			Nillable(),
		field.Time("lease_expires_at").
			Optional().
			Nillable(),
	}
}
