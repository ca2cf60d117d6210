// Package ingest is the ingestion load benchmark (recoverydesk bench
// ingest): it APPENDs a realistic mix of mail to an IMAP mailbox while the
// product's own ingestion (imapsync feeding desk.Inbound) stores it, and
// measures the rate, the time from APPEND to commit and the peak memory.
package ingest
