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

// TrustedDevice is a browser that confirmed an unrecognized-login email.
// It is identified by the hash of its long-lived device cookie, not by IP.
type TrustedDevice struct {
	ent.Schema
}

// Annotations of the TrustedDevice.
func (TrustedDevice) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("trusted_devices")}
}

// Mixin of the TrustedDevice.
func (TrustedDevice) Mixin() []ent.Mixin {
	return []ent.Mixin{CreatedAtMixin{}}
}

// Fields of the TrustedDevice.
func (TrustedDevice) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id").
			Immutable(),
		field.Bytes("device_hash").
			NotEmpty().
			Sensitive().
			Immutable(),
		field.String("user_agent").
			Default(""),
		field.String("ip").
			Default(""),
		field.Time("last_used_at").
			Default(time.Now),
		field.Time("revoked_at").
			Optional().
			Nillable(),
	}
}

// Edges of the TrustedDevice.
func (TrustedDevice) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).
			Ref("trusted_devices").
			Field("user_id").
			Unique().
			Required().
			Immutable(),
		edge.To("sessions", Session.Type),
	}
}

// Indexes of the TrustedDevice.
func (TrustedDevice) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("device_hash"),
		index.Fields("user_id", "device_hash"),
	}
}
