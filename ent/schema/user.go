package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// User is an account of the package index: a maintainer, and possibly a
// support agent or admin of the desk (staff_role).
type User struct {
	ent.Schema
}

// Annotations of the User.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("users")}
}

// Mixin of the User.
func (User) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}}
}

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("username").
			NotEmpty().
			MaxLen(100),
		// Lower-cased (and otherwise normalised) username; uniqueness is
		// enforced here so "Alice" and "alice" cannot both exist.
		field.String("username_normalized").
			NotEmpty().
			MaxLen(100).
			Unique(),
		field.String("display_name").
			Default(""),
		// Null means the account has no password (e.g. created by an admin).
		field.String("password_hash").
			Optional().
			Nillable().
			Sensitive(),
		field.Time("password_changed_at").
			Optional().
			Nillable(),
		field.Enum("status").
			Values("active", "locked", "disabled").
			Default("active"),
		field.Enum("staff_role").
			Values("none", "agent", "admin").
			Default("none"),
		// Set by a 2FA reset: the next login must enrol a second factor.
		field.Bool("must_enroll_2fa").
			Default(false),
		field.Time("last_login_at").
			Optional().
			Nillable(),
	}
}

// cascade is the annotation for edges whose children have no meaning
// without their parent.
func cascade() schema.Annotation {
	return entsql.OnDelete(entsql.Cascade)
}

// Edges of the User.
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		// Identity and credentials: removed with the account.
		edge.To("emails", EmailAddress.Type).Annotations(cascade()),
		edge.To("totp_credential", TOTPCredential.Type).Unique().Annotations(cascade()),
		edge.To("webauthn_credentials", WebAuthnCredential.Type).Annotations(cascade()),
		edge.To("recovery_codes", RecoveryCode.Type).Annotations(cascade()),
		edge.To("trusted_devices", TrustedDevice.Type).Annotations(cascade()),
		edge.To("sessions", Session.Type).Annotations(cascade()),
		edge.To("pending_logins", PendingLogin.Type).Annotations(cascade()),
		edge.To("action_tokens", ActionToken.Type).Annotations(cascade()),
		edge.To("security_events", SecurityEvent.Type).Annotations(cascade()),
		edge.To("api_tokens", APIToken.Type).Annotations(cascade()),

		// Package index.
		edge.To("organization_memberships", OrganizationMember.Type).Annotations(cascade()),
		edge.To("project_roles", ProjectRole.Type).Annotations(cascade()),
		edge.To("uploads", ReleaseFile.Type),

		// Desk.
		edge.To("cases", SupportCase.Type),
		edge.To("assigned_cases", SupportCase.Type),
		edge.To("authored_messages", Message.Type),
		edge.To("outbound_mails", OutboundMail.Type),
		edge.To("case_events", CaseEvent.Type),
		edge.To("canned_replies", CannedReply.Type),
		edge.To("reset_requests", ResetRequest.Type),
		edge.To("approved_resets", ResetRequest.Type),
		edge.To("second_approved_resets", ResetRequest.Type),
		edge.To("reset_approvals", ResetApproval.Type),
		edge.To("case_presence", CasePresence.Type).Annotations(cascade()),
		// Restrict: an audit row must never change, so an actor who appears
		// in the log cannot be hard-deleted (disable the account instead).
		edge.To("audit_events", AuditEvent.Type).
			Annotations(entsql.OnDelete(entsql.Restrict)),
	}
}

// Indexes of the User.
func (User) Indexes() []ent.Index {
	return []ent.Index{
		// The desk lists its staff on every queue page; without this it
		// reads every account.
		index.Fields("staff_role"),
	}
}
