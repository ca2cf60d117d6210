package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// SecurityEvent is an entry of an account's security history (logins,
// failed logins, 2FA changes, password changes). The evidence jobs read it
// for red flags such as a burst of failed logins.
type SecurityEvent struct {
	ent.Schema
}

// Annotations of the SecurityEvent.
func (SecurityEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("security_events")}
}

// Mixin of the SecurityEvent.
func (SecurityEvent) Mixin() []ent.Mixin {
	return []ent.Mixin{CreatedAtMixin{}}
}

// Fields of the SecurityEvent.
func (SecurityEvent) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id").
			Immutable(),
		// Event kind, e.g. "login", "login_failed", "totp_added".
		field.String("kind").
			NotEmpty().
			Immutable(),
		field.String("ip").
			Default("").
			Immutable(),
		field.String("user_agent").
			Default("").
			Immutable(),
		field.JSON("details", map[string]any{}).
			Optional().
			Immutable(),
	}
}

// Edges of the SecurityEvent.
func (SecurityEvent) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).
			Ref("security_events").
			Field("user_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the SecurityEvent.
func (SecurityEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "created_at"),
	}
}
