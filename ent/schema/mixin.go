package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"
)

// CreatedAtMixin adds an immutable created_at column set on insert.
type CreatedAtMixin struct {
	mixin.Schema
}

// Fields of the CreatedAtMixin.
func (CreatedAtMixin) Fields() []ent.Field {
	return []ent.Field{
		// The database default serves rows inserted with plain SQL.
		field.Time("created_at").
			Default(time.Now).
			Immutable().
			Annotations(entsql.DefaultExpr("CURRENT_TIMESTAMP")),
	}
}

// UpdatedAtMixin adds an updated_at column refreshed on every update.
type UpdatedAtMixin struct {
	mixin.Schema
}

// Fields of the UpdatedAtMixin.
func (UpdatedAtMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("updated_at").
			Default(time.Now).
			UpdateDefault(time.Now).
			Annotations(entsql.DefaultExpr("CURRENT_TIMESTAMP")),
	}
}

// TimeMixin adds both created_at and updated_at.
type TimeMixin struct {
	mixin.Schema
}

// Fields of the TimeMixin.
func (TimeMixin) Fields() []ent.Field {
	return append(CreatedAtMixin{}.Fields(), UpdatedAtMixin{}.Fields()...)
}
