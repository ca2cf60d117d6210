package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// RateLimitCounter counts hits of one key (e.g. "login:ip:203.0.113.7") in
// one fixed window. Kept in PostgreSQL so all processes share the limits;
// incremented with an upsert.
type RateLimitCounter struct {
	ent.Schema
}

// Annotations of the RateLimitCounter.
func (RateLimitCounter) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("rate_limit_counters")}
}

// Fields of the RateLimitCounter.
func (RateLimitCounter) Fields() []ent.Field {
	return []ent.Field{
		field.String("key").
			NotEmpty().
			Immutable(),
		field.Time("window_start").
			Immutable(),
		field.Int("count").
			Default(0),
	}
}

// Indexes of the RateLimitCounter.
func (RateLimitCounter) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("key", "window_start").Unique(),
		// Pruning deletes old windows.
		index.Fields("window_start"),
	}
}
