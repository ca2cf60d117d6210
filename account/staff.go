package account

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/emailaddress"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/audit"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// Staff roles are granted by an operator with shell access (the
// `recoverydesk staff` command), never through the web: a stolen admin
// session must not be able to mint more admins. Sessions read the role
// from the user row on every request (Sessions.Lookup), so a change takes
// effect at the next request without revoking anything.

// The staff roles a user can hold; RoleNone is no role.
const (
	RoleNone  = string(user.StaffRoleNone)
	RoleAgent = string(user.StaffRoleAgent)
	RoleAdmin = string(user.StaffRoleAdmin)
)

// OperatorLabel is the audit actor of changes made from the command line.
const OperatorLabel = "cli (operator)"

// DetailRole is the role in a staff event's details.
const DetailRole = "role"

// Refusals of SetStaffRole.
var (
	ErrBadRole           = errors.New(`account: role must be "agent" or "admin"`)
	ErrUnknownAddress    = errors.New("account: no account has this email address")
	ErrAddressUnverified = errors.New("account: this email address is not verified")
)

// StaffChange is the outcome of SetStaffRole.
type StaffChange struct {
	UserID   int
	Username string
	From, To string
	// Changed is false when the account already had the role.
	Changed bool
	// SecondFactor: the account has TOTP or a security key; staff pages
	// refuse sessions without one.
	SecondFactor bool
}

// StaffMember is a user holding a staff role.
type StaffMember struct {
	UserID       int
	Username     string
	Role         string
	Email        string // primary address
	SecondFactor bool
}

// GrantStaff gives the account of a verified address role (agent or admin).
func GrantStaff(ctx context.Context, st *store.Store, email, role string) (StaffChange, error) {
	if role != RoleAgent && role != RoleAdmin {
		return StaffChange{}, ErrBadRole
	}
	return setStaffRole(ctx, st, email, role)
}

// RevokeStaff takes any staff role from the account of a verified address.
func RevokeStaff(ctx context.Context, st *store.Store, email string) (StaffChange, error) {
	return setStaffRole(ctx, st, email, RoleNone)
}

// setStaffRole changes the role, records the owner's security event and
// appends the audit row in one transaction; no change, no rows.
func setStaffRole(ctx context.Context, st *store.Store, email, role string) (StaffChange, error) {
	var ch StaffChange
	err := st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		userID, err := verifiedOwner(ctx, tx.Ent, email)
		if err != nil {
			return err
		}
		u, err := lockUser(ctx, tx.Ent, userID)
		if err != nil {
			return err
		}
		f, err := LoadSecondFactors(ctx, tx.Ent, u.ID)
		if err != nil {
			return err
		}
		ch = StaffChange{UserID: u.ID, Username: u.Username, From: string(u.StaffRole), To: role, SecondFactor: f.TOTP || f.WebAuthn > 0}
		if ch.From == role {
			return nil
		}
		ch.Changed = true
		if err := tx.Ent.User.UpdateOneID(u.ID).SetStaffRole(user.StaffRole(role)).Exec(ctx); err != nil {
			return fmt.Errorf("account: set staff role of user %d: %w", u.ID, err)
		}
		kind, action, details := EventStaffRoleGranted, "staff.grant", map[string]any{DetailRole: role, "previous_role": ch.From}
		if role == RoleNone {
			kind, action, details = EventStaffRoleRevoked, "staff.revoke", map[string]any{"previous_role": ch.From}
		}
		if err := RecordEvent(ctx, tx.Ent, u.ID, kind, EventContext{Device: OperatorLabel}, details); err != nil {
			return err
		}
		details["email"] = email
		if _, err := audit.Append(ctx, tx, audit.Entry{
			ActorLabel: OperatorLabel,
			Action:     action,
			TargetType: "user",
			TargetID:   strconv.Itoa(u.ID),
			Details:    details,
		}); err != nil {
			return fmt.Errorf("account: audit staff role of user %d: %w", u.ID, err)
		}
		return nil
	})
	if err != nil {
		return StaffChange{}, fmt.Errorf("account: staff role for %s: %w", email, err)
	}
	return ch, nil
}

// verifiedOwner is the account whose verified address email is: an
// unverified address proves nothing about who owns it.
func verifiedOwner(ctx context.Context, client *ent.Client, email string) (int, error) {
	norm := NormalizeEmail(email)
	e, err := client.EmailAddress.Query().
		Where(emailaddress.AddressNormalized(norm), emailaddress.VerifiedAtNotNil()).
		Only(ctx)
	if err == nil {
		return e.UserID, nil
	}
	if !ent.IsNotFound(err) {
		return 0, fmt.Errorf("account: find address: %w", err)
	}
	unverified, err := client.EmailAddress.Query().Where(emailaddress.AddressNormalized(norm)).Exist(ctx)
	if err != nil {
		return 0, fmt.Errorf("account: find address: %w", err)
	}
	if unverified {
		return 0, ErrAddressUnverified
	}
	return 0, ErrUnknownAddress
}

// ListStaff returns every user with a staff role, admins first, then by
// username.
func ListStaff(ctx context.Context, client *ent.Client) ([]StaffMember, error) {
	rows, err := client.User.Query().
		Where(user.StaffRoleNEQ(user.StaffRoleNone)).
		WithEmails(func(q *ent.EmailAddressQuery) { q.Where(emailaddress.Primary(true)) }).
		Order(ent.Asc(user.FieldStaffRole), ent.Asc(user.FieldUsername)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("account: list staff: %w", err)
	}
	out := make([]StaffMember, len(rows))
	for i, u := range rows {
		f, err := LoadSecondFactors(ctx, client, u.ID)
		if err != nil {
			return nil, err
		}
		m := StaffMember{UserID: u.ID, Username: u.Username, Role: string(u.StaffRole), SecondFactor: f.TOTP || f.WebAuthn > 0}
		if len(u.Edges.Emails) > 0 {
			m.Email = u.Edges.Emails[0].Address
		}
		out[i] = m
	}
	return out, nil
}
