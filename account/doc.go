// Package account is the identity side of the package index: users and
// their email addresses, passwords, second factors (TOTP, WebAuthn,
// recovery codes), trusted devices, sessions and security events. It knows
// nothing of HTTP: the web layer turns requests into calls here.
//
// # Sign-in
//
// Login is a small state machine (login.go):
//
//	password ──no 2FA────────────────────────────────────▶ signed in
//	    │ 2FA
//	    ▼
//	second factor ──WebAuthn, or a trusted browser────────▶ signed in
//	    │ TOTP / recovery code from an unrecognized browser
//	    ▼
//	held ──emailed link opened in the same browser─────────▶ signed in
//
// Passkeys skip the password and the check: passkey ──▶ signed in. A
// half-finished login is an anonymous session (no user, so it never counts
// as signed in) whose data says where it stands; the browser holds its
// token in a cookie of its own. "The same browser" is a long-lived device
// cookie, never the IP address, so a changing IP does not break the
// confirmation and a phisher's browser elsewhere cannot be confirmed.
// Every completed sign-in creates a new session (the ID rotates).
//
// # Secrets at rest
//
// Sessions, emailed links and device cookies are 256-bit random tokens of
// which only the SHA-256 is stored. Passwords are argon2id (password.go,
// parameters in DefaultPasswordParams). Recovery codes are 80-bit random
// and stored as SHA-256: a slow hash adds nothing against guessing a random
// 80-bit secret, and a plain hash lets a login find the code by index.
//
// # Limits and history
//
// Attempts are rate-limited in PostgreSQL (internal/ratelimit), so limits
// hold across processes. Every login attempt against an existing account,
// every 2FA, password and email change is a SecurityEvent, shown on the
// security page and read later by the recovery desk's evidence jobs.
package account
