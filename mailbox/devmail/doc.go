// Package devmail runs the mail servers of the `dev` subcommand inside the
// process: a Sink that accepts every mail the system sends over SMTP and
// keeps it for the /dev/mail page, and a Mailbox, an IMAP server holding
// the support mailbox into which that page delivers mail "from outside".
// Nothing here is used in production.
package devmail
