package mailbox

import "context"

// Fetched is one message as IMAP ingestion hands it over: where it came
// from (so the checkpoint and quarantine can name it) and its raw bytes.
type Fetched struct {
	Mailbox     string
	UIDValidity uint32
	UID         uint32
	Raw         []byte
}

// MessageHandler stores one fetched message. Ingestion advances its
// checkpoint past a message only after HandleMessage returned nil, so the
// handler must be idempotent (the same message may come again after a
// crash) and must itself quarantine what it cannot parse rather than
// return an error: an error stops ingestion of that mailbox until retried.
type MessageHandler interface {
	HandleMessage(ctx context.Context, m Fetched) error
}

// BatchHandler is a MessageHandler that can also store several messages
// at once, in one transaction: ingestion hands a backlog over in batches
// to save a commit per message. Like HandleMessage, HandleBatch returns
// nil only when every message is stored, dropped as a duplicate or
// quarantined.
type BatchHandler interface {
	MessageHandler
	HandleBatch(ctx context.Context, ms []Fetched) error
}
