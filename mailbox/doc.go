// Package mailbox is the product's mail plumbing, with no HTTP in it.
//
// Outbound: Compose turns an Outgoing value into an RFC 5322 message (UTF-8,
// quoted-printable text parts, RFC 2047 encoded headers, CRLF line endings,
// our own Message-ID and the In-Reply-To/References threading headers), and
// a Sender delivers it through the relay named by SMTP_URL (see
// ParseSMTPURL). Send reports whether a failure is permanent (a 5xx reply,
// which retrying cannot fix) or temporary (IsPermanent), so the worker that
// calls it knows whether to retry or to mark the mail as failed.
//
// Inbound (a later issue): IMAP ingestion with go-imap v2, MIME parsing with
// go-message, threading by In-Reply-To/References, a signed marker or the
// subject tag, and loop/bounce detection, checkpointed by UIDVALIDITY/UID so
// that fetching twice is harmless.
//
// Subpackage devmail holds the in-process SMTP sink and IMAP server that the
// `dev` subcommand runs in place of real mail servers.
package mailbox
