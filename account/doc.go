// Package account is the identity side of the package index: users and
// their email addresses, passwords, second factors (TOTP, WebAuthn,
// recovery codes), trusted devices, sessions and security events. It knows
// nothing of HTTP: the web layer turns requests into calls here.
//
// Sessions live in PostgreSQL so that any number of web processes serve
// the same users: the browser holds a random token, the database only its
// SHA-256 hash, so a leaked database row cannot be replayed as a cookie.
package account
