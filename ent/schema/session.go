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

// Session is a browser session kept in PostgreSQL so any number of web
// processes can serve it. Anonymous sessions (no user) carry CSRF state
// and half-finished logins.
type Session struct {
	ent.Schema
}

// Annotations of the Session.
func (Session) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("sessions")}
}

// Mixin of the Session.
func (Session) Mixin() []ent.Mixin {
	return []ent.Mixin{CreatedAtMixin{}}
}

// Fields of the Session.
func (Session) Fields() []ent.Field {
	return []ent.Field{
		// Hash of the cookie value; the cookie itself is never stored.
		field.Bytes("token_hash").
			NotEmpty().
			Unique().
			Sensitive().
			Immutable(),
		field.Int("user_id").
			Optional().
			Nillable(),
		field.Time("last_seen_at").
			Default(time.Now),
		field.Time("expires_at"),
		field.String("ip").
			Default(""),
		field.String("user_agent").
			Default(""),
		// How the user proved identity: "password", "totp", "webauthn",
		// "recovery_code". The 2FA reset requires "webauthn" here.
		field.JSON("auth_methods", []string{}).
			Default([]string{}),
		// Free-form per-session state (e.g. a WebAuthn ceremony challenge).
		field.JSON("data", map[string]any{}).
			Optional(),
		field.Time("reauthenticated_at").
			Optional().
			Nillable(),
		field.Time("revoked_at").
			Optional().
			Nillable(),
		field.Int("trusted_device_id").
			Optional().
			Nillable(),
	}
}

// Edges of the Session.
func (Session) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).
			Ref("sessions").
			Field("user_id").
			Unique(),
		edge.From("trusted_device", TrustedDevice.Type).
			Ref("sessions").
			Field("trusted_device_id").
			Unique(),
	}
}

// Indexes of the Session.
func (Session) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id"),
		index.Fields("expires_at"),
	}
}
