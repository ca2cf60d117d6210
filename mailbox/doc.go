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
// Outbox.Queue records an outbound mail and its River send job in the
// caller's transaction; the worker's Outbox.Deliver sends it once and
// records sent, deferred, failed or (later, from a bounce) bounced.
//
// Inbound, the pure building blocks (IMAP ingestion that wires them comes
// with issue 4): Parse turns raw bytes into a Parsed message (charsets,
// RFC 2047/2231, alternatives, nested messages, attachments under a size
// budget), erroring only for what is not a message at all (quarantine).
// Classify reads the hygiene headers (auto-replies, bulk and list mail,
// loops, null senders) so we never answer a robot; ParseDSN and
// ParseNonStandardBounce match bounces to the mail they report; FoldQuoted
// separates what a person wrote from the quoted history for display.
// MessageIDSigner signs our outgoing Message-IDs and the reply-above body
// marker, so threading can trust them and refuse forged ones.
//
// Subpackage devmail holds the in-process SMTP sink and IMAP server that the
// `dev` subcommand runs in place of real mail servers.
package mailbox
