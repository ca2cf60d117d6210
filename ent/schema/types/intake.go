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
}
