package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// WebAuthnCredential is a security key or passkey registered on an account.
type WebAuthnCredential struct {
	ent.Schema
}

// Annotations of the WebAuthnCredential.
func (WebAuthnCredential) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("webauthn_credentials")}
}

// Mixin of the WebAuthnCredential.
func (WebAuthnCredential) Mixin() []ent.Mixin {
	return []ent.Mixin{CreatedAtMixin{}}
}

// Fields of the WebAuthnCredential.
func (WebAuthnCredential) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id").
			Immutable(),
		// User-chosen label ("YubiKey 5", "Laptop passkey").
		field.String("name").
			NotEmpty().
			MaxLen(100),
		field.Bytes("credential_id").
			NotEmpty().
			Unique().
			Immutable(),
		field.Bytes("public_key").
			NotEmpty().
			Immutable(),
		field.String("attestation_type").
			Default(""),
		field.Bytes("aaguid").
			Optional(),
		field.Uint32("sign_count").
			Default(0),
		field.JSON("transports", []string{}).
			Default([]string{}),
		field.Bool("backup_eligible").
			Default(false),
		field.Bool("backup_state").
			Default(false),
		// A discoverable credential (passkey) allows username-less sign-in.
		field.Bool("discoverable").
			Default(false),
		field.Time("last_used_at").
			Optional().
			Nillable(),
	}
}

// Edges of the WebAuthnCredential.
func (WebAuthnCredential) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).
			Ref("webauthn_credentials").
			Field("user_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the WebAuthnCredential.
func (WebAuthnCredential) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id"),
	}
}
