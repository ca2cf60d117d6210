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

// ReleaseFile is an uploaded distribution file. It records who uploaded it,
// when, with which token and from where: the upload history is also raw
// material for ownership evidence.
type ReleaseFile struct {
	ent.Schema
}

// Annotations of the ReleaseFile.
func (ReleaseFile) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("release_files")}
}

// Fields of the ReleaseFile.
func (ReleaseFile) Fields() []ent.Field {
	return []ent.Field{
		field.Int("release_id").
			Immutable(),
		// File names are unique index-wide, as on the registries.
		field.String("filename").
			NotEmpty().
			MaxLen(255).
			Unique().
			Immutable(),
		field.Int64("size").
			NonNegative().
			Immutable(),
		field.String("sha256").
			NotEmpty().
			Immutable(),
		field.String("md5").
			Optional().
			Nillable().
			Immutable(),
		field.String("blake2_256").
			Optional().
			Nillable().
			Immutable(),
		// "sdist", "bdist_wheel", ...
		field.String("package_type").
			NotEmpty().
			Immutable(),
		field.String("python_version").
			Optional().
			Nillable().
			Immutable(),
		field.Time("uploaded_at").
			Default(time.Now).
			Immutable(),
		field.Int("uploader_id").
			Immutable(),
		field.Int("api_token_id").
			Optional().
			Nillable().
			Immutable(),
		field.String("ip").
			Default("").
			Immutable(),
		// Where the file's bytes live in blob storage.
		field.String("storage_key").
			NotEmpty().
			Immutable(),
	}
}

// Edges of the ReleaseFile.
func (ReleaseFile) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("release", Release.Type).
			Ref("files").
			Field("release_id").
			Unique().
			Required().
			Immutable(),
		edge.From("uploader", User.Type).
			Ref("uploads").
			Field("uploader_id").
			Unique().
			Required().
			Immutable(),
		edge.From("api_token", APIToken.Type).
			Ref("uploads").
			Field("api_token_id").
			Unique().
			Immutable(),
	}
}

// Indexes of the ReleaseFile.
func (ReleaseFile) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("release_id"),
		index.Fields("uploader_id", "uploaded_at"),
		index.Fields("api_token_id"),
	}
}
