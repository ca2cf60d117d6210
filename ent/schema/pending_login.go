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

// PendingLogin is a correct login from an unrecognized device, held until
// the emailed link is opened in the same browser (same device cookie).
type PendingLogin struct {
	ent.Schema
}

// Annotations of the PendingLogin.
func (PendingLogin) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("pending_logins")}
}

// Mixin of the PendingLogin.
func (PendingLogin) Mixin() []ent.Mixin {
	return []ent.Mixin{CreatedAtMixin{}}
}

// Fields of the PendingLogin.
func (PendingLogin) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id").
			Immutable(),
		// Hash of the device cookie of the browser that started the login.
		field.Bytes("device_hash").
			NotEmpty().
			Sensitive().
			Immutable(),
		// Hash of the token in the emailed confirmation link.
		field.Bytes("token_hash").
			NotEmpty().
			Unique().
			Sensitive(),
		// Second factor used: "totp" or "recovery_code".
		field.String("method").
			NotEmpty(),
		field.String("ip").
			Default(""),
		field.String("user_agent").
			Default(""),
		field.Time("expires_at"),
		field.Time("confirmed_at").
			Optional().
			Nillable(),
		field.Time("consumed_at").
			Optional().
			Nillable(),
		// Drives the re-send throttle (one per 15 minutes).
		field.Time("last_email_sent_at").
			Default(time.Now),
	}
}

// Edges of the PendingLogin.
func (PendingLogin) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).
			Ref("pending_logins").
			Field("user_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the PendingLogin.
func (PendingLogin) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "device_hash"),
		index.Fields("expires_at"),
	}
}
