package account

// PruneSessionsArgs is the periodic job that deletes long-ended sessions.
type PruneSessionsArgs struct{}

// Kind is the job's stable name in River.
func (PruneSessionsArgs) Kind() string { return "account.prune_sessions" }
