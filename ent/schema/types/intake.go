// Package types holds Go types stored in JSON columns of the ent schema.
package types

// CaseIntake records the answers a requester gave when opening a recovery
// case. Cases opened by plain email have only Explanation filled in (the
// body of the first message); the booleans then stay false.
type CaseIntake struct {
	// HasPassword tells whether the requester still knows the password.
	HasPassword bool `json:"has_password"`
	// HasEmailAccess tells whether the requester can still read mail sent
	// to an address on the account.
	HasEmailAccess bool `json:"has_email_access"`
	// HasRecoveryCodes tells whether the requester still has recovery codes.
	HasRecoveryCodes bool `json:"has_recovery_codes"`
	// HasDevice tells whether the requester still has a device that was
	// used as a second factor (phone app or security key).
	HasDevice bool `json:"has_device"`
	// Explanation is the free-text account of what happened.
	Explanation string `json:"explanation"`
	// ClaimedProjects are project names the requester says they maintain.
	ClaimedProjects []string `json:"claimed_projects,omitempty"`
	// ClaimedOrganizations are organization names the requester says they
	// belong to.
	ClaimedOrganizations []string `json:"claimed_organizations,omitempty"`
	// The answers to the private-knowledge questions, all optional:
	// AccountCreated is roughly when the account was made ("2019-03"),
	// PreviousEmails addresses that were on the account before, and
	// TwoFactorMethod the second factor last used ("totp",
	// "security_key", "passkey", "recovery_codes" or "").
	AccountCreated  string   `json:"account_created,omitempty"`
	PreviousEmails  []string `json:"previous_emails,omitempty"`
	TwoFactorMethod string   `json:"two_factor_method,omitempty"`
	// LastUpload is roughly when the requester last uploaded a release
	// ("2026-08"), compared with the account's real uploads.
	LastUpload string `json:"last_upload,omitempty"`
}
