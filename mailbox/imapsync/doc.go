// Package imapsync fetches new mail from the support mailbox over IMAP and
// hands each message to a mailbox.MessageHandler.
//
// A Syncer keeps one checkpoint row per mailbox (ent MailboxCheckpoint):
// the mailbox's UIDVALIDITY and the highest UID handled. It fetches UIDs
// above last_uid in batches with BODY.PEEK[] (messages stay unseen for a
// person reading the same mailbox), hands them to the handler (a
// mailbox.BatchHandler gets a batch in one call, so one commit stores many
// messages), advances the checkpoint after each handover, and then waits
// for new mail with IDLE, or polls where the server lacks IDLE.
//
// When UIDVALIDITY changes (or the server's UIDNEXT falls to or below
// last_uid, which a well-behaved server never does without changing
// UIDVALIDITY), the old UIDs mean nothing: the Syncer starts again from
// UID 1. Messages it already handled come again; the handler drops them by
// Message-ID, so a reset never loses mail and never duplicates a case.
//
// Several workers may run a Syncer for the same mailbox; a lease in the
// checkpoint row (lease_owner, lease_expires_at) lets one fetch at a time.
// The holder renews it while it runs and releases it when it stops; a
// crashed holder's lease lapses after Config.LeaseTTL. Lease times come
// from the workers' clocks, so they should be roughly in sync (a skew well
// below LeaseTTL is harmless).
package imapsync
