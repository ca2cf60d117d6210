// Package desk holds the recovery and support cases: intake, threading
// rules, the evidence model and its assessment, triage actions, the 2FA
// reset and the audit log. It knows nothing of HTTP; web and workers call
// it.
//
// Threading (threading.go) decides which case an incoming mail belongs to,
// in this order: its In-Reply-To, then its References (newest first),
// matching a stored Message-ID or one of our signed ones; then our signed
// marker in the body; then the case tag in the subject, but only when the
// sender already takes part in that case (a stranger quoting a reference
// opens a new case instead). LooksLikeRecovery picks the kind of a new
// case.
package desk
