// Package registry is the package-index side that maintainers write to:
// projects, releases and their files, arriving over the classic upload
// protocol that twine speaks. It knows nothing of HTTP: web/upload.go
// authenticates the API token and turns the multipart request into an
// UploadRequest.
//
// # An upload
//
// Service.Upload checks, in this order, everything that needs no bytes
// (protocol fields, name, version, file name against both, the token's
// scope, a file name used before), so a refused upload writes nothing;
// then it streams the file to a temporary file while hashing it and
// compares the digests the client sent before the file takes its place
// (a mismatch leaves nothing behind), and finally records the project (created on the first
// upload of a new name, with the uploader as owner), the release and the
// file row in one transaction. That transaction takes an advisory lock on
// the project's normalised name, so two first uploads of one new name
// create one project, and two uploads of one version one release.
//
// A file name can be uploaded once: the release_files.filename index is
// unique and rows are never deleted (nothing in the product deletes a
// project, release or file; whatever does so one day must keep the file
// names, as a tombstone, or the rule breaks).
//
// # Where the bytes live
//
// Files are kept in a directory (DATA_DIR/files), not in PostgreSQL large
// objects or bytea columns:
//   - An upload is copied into the store while it is hashed and measured,
//     from the part the HTTP server received (in memory up to 16 MiB,
//     spooled to a temporary file above); PostgreSQL would need the bytes
//     in one value (bytea) or a session-bound large-object API with its
//     own transaction rules.
//   - Large objects and TOASTed bytea bloat the database: every deleted
//     object leaves work for vacuum (and pg_largeobject for vacuumlo), and
//     database backups and replicas carry every file.
//   - A directory is backed up and mirrored with rsync or any object-store
//     sync, and a file can be served by a plain web server.
//
// Files are content-addressed: the key is the SHA-256 of the bytes
// (files/sha256/ab/cd/abcd…). A file is written to a temporary file in the
// same directory tree, fsynced and renamed into place before the database
// row that names it commits, so a row never points at a partial file. If
// the transaction then fails, the stored file is merely unreferenced:
// harmless, and reused by the next upload of the same bytes. With several
// serve processes on several machines, DATA_DIR/files must be one shared
// file system.
package registry
