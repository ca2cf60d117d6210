// Package desk holds the recovery and support cases: intake, threading
// rules, the evidence model and its assessment, triage actions, the 2FA
// reset and the audit log. It knows nothing of HTTP; web and workers call
// it.
package desk
