// Package ent holds the ent client and entities generated from ./schema.
package ent

//go:generate go tool ent generate --feature sql/versioned-migration,sql/upsert,sql/execquery,sql/lock,sql/modifier ./schema
