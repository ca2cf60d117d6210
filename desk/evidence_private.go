package desk

import (
	"context"
	"fmt"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/emailaddress"
	"github.com/recoverydesk/recoverydesk/ent/recoverycode"
	"github.com/recoverydesk/recoverydesk/ent/schema/types"
	"github.com/recoverydesk/recoverydesk/ent/securityevent"
	"github.com/recoverydesk/recoverydesk/ent/totpcredential"
	"github.com/recoverydesk/recoverydesk/ent/webauthncredential"
)

// The second-factor types a requester can name on the form.
const (
	MethodTOTP          = "totp"
	MethodSecurityKey   = "security_key"
	MethodPasskey       = "passkey"
	MethodRecoveryCodes = "recovery_codes"
)

// methodWords name the methods in summaries.
var methodWords = map[string]string{
	MethodTOTP:          "an authenticator app",
	MethodSecurityKey:   "a security key",
	MethodPasskey:       "a passkey",
	MethodRecoveryCodes: "recovery codes",
}

// CreationTolerance is how far (in months) an approximate account creation
// date may be off and still agree.
const CreationTolerance = 3

// checkAnswers compares the requester's answers to the private questions
// with the record. Summaries are for staff; the requester never sees
// them, so a guess learns nothing about the record.
func (e *Evidence) checkAnswers(ctx context.Context, caseID int) error {
	c, u, err := caseAccount(ctx, e.st.Ent, caseID)
	if err != nil || u == nil {
		return err
	}
	in := c.Intake
	var items []newItem
	if in.AccountCreated != "" {
		items = append(items, creationAnswer(in.AccountCreated, u.CreatedAt))
	}
	if len(in.PreviousEmails) > 0 {
		known, err := e.addressHistory(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, addr := range in.PreviousEmails {
			items = append(items, addressAnswer(addr, known))
		}
	}
	if in.TwoFactorMethod != "" {
		has, err := e.methods(ctx, u.ID)
		if err != nil {
			return err
		}
		items = append(items, methodAnswer(in.TwoFactorMethod, has))
	}
	if len(items) == 0 {
		return nil
	}
	return e.storeItems(ctx, caseID, items)
}

func creationAnswer(claim string, created time.Time) newItem {
	it := newItem{kind: KindCreationDate, strength: StrengthPrivate, source: "account record", key: "creation_date:" + claim}
	month, err := time.Parse("2006-01", claim)
	if err != nil {
		it.finding = types.Finding{Summary: fmt.Sprintf("Gave %q as the account's creation date, which is not a month.", claim), Match: boolPtr(false)}
		return it
	}
	off := monthsBetween(month, created)
	it.finding = types.Finding{
		Summary: fmt.Sprintf("Says the account was made around %s; it was made on %s (%d months off).", claim, created.Format(dateLayout), off),
		Match:   boolPtr(off <= CreationTolerance),
		Details: map[string]any{"claimed": claim, "actual": created.Format(dateLayout), "months_off": off},
	}
	return it
}

// addressRecord is an address the account has had.
type addressRecord struct {
	address string
	current bool
	// removed is when it left the account, if it did.
	removed *time.Time
}

// addressHistory returns every address the account has had, keyed by
// canonical form: those on it now, and those its email events name.
func (e *Evidence) addressHistory(ctx context.Context, userID int) (map[string]addressRecord, error) {
	known := map[string]addressRecord{}
	events, err := e.st.Ent.SecurityEvent.Query().
		Where(securityevent.UserID(userID), securityevent.KindIn(
			string(account.EventEmailAdded), string(account.EventEmailRemoved), string(account.EventPrimaryEmailChanged))).
		Order(ent.Asc(securityevent.FieldCreatedAt)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: address history of account %d: %w", userID, err)
	}
	for _, ev := range events {
		for _, key := range []string{account.DetailAddress, account.DetailPreviousAddress} {
			if a, ok := ev.Details[key].(string); ok && a != "" {
				r := addressRecord{address: a}
				if ev.Kind == string(account.EventEmailRemoved) && key == account.DetailAddress {
					r.removed = timePtr(ev.CreatedAt)
				}
				known[CanonicalEmail(a)] = r
			}
		}
	}
	current, err := e.st.Ent.EmailAddress.Query().Where(emailaddress.UserID(userID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: addresses of account %d: %w", userID, err)
	}
	for _, a := range current {
		known[CanonicalEmail(a.Address)] = addressRecord{address: a.Address, current: true}
	}
	return known, nil
}

func addressAnswer(claim string, known map[string]addressRecord) newItem {
	canon := CanonicalEmail(claim)
	it := newItem{kind: KindPreviousEmail, strength: StrengthPrivate, source: "account record", key: "previous_email:" + canon}
	r, ok := known[canon]
	switch {
	case !ok:
		it.finding = types.Finding{Summary: fmt.Sprintf("Names %s as a previous address; it was never on the account.", claim), Match: boolPtr(false)}
	case r.current:
		// Current addresses are often public (package metadata), so
		// naming one proves nothing either way.
		it.finding = types.Finding{Summary: fmt.Sprintf("Names %s, an address the account has now (often public, so not compared).", claim)}
	case r.removed != nil:
		it.finding = types.Finding{Summary: fmt.Sprintf("Names %s, a former address of the account (removed %s).", claim, r.removed.Format(dateLayout)), Match: boolPtr(true), At: r.removed}
	default:
		it.finding = types.Finding{Summary: fmt.Sprintf("Names %s, a former address of the account.", claim), Match: boolPtr(true)}
	}
	return it
}

// methods returns the second-factor types the account has.
func (e *Evidence) methods(ctx context.Context, userID int) (map[string]bool, error) {
	has := map[string]bool{}
	totp, err := e.st.Ent.TOTPCredential.Query().Where(totpcredential.UserID(userID), totpcredential.ConfirmedAtNotNil()).Exist(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: second factors of account %d: %w", userID, err)
	}
	has[MethodTOTP] = totp
	keys, err := e.st.Ent.WebAuthnCredential.Query().Where(webauthncredential.UserID(userID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: second factors of account %d: %w", userID, err)
	}
	for _, k := range keys {
		if k.Discoverable {
			has[MethodPasskey] = true
		} else {
			has[MethodSecurityKey] = true
		}
	}
	codes, err := e.st.Ent.RecoveryCode.Query().Where(recoverycode.UserID(userID)).Exist(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: second factors of account %d: %w", userID, err)
	}
	has[MethodRecoveryCodes] = codes
	return has, nil
}

func methodAnswer(claim string, has map[string]bool) newItem {
	it := newItem{kind: KindTwoFactorMethod, strength: StrengthPrivate, source: "account record", key: "two_factor_method:" + claim}
	words, ok := methodWords[claim]
	if !ok {
		words = fmt.Sprintf("%q", claim)
	}
	if has[claim] {
		it.finding = types.Finding{Summary: fmt.Sprintf("Says the account used %s; it has one.", words), Match: boolPtr(true)}
	} else {
		it.finding = types.Finding{Summary: fmt.Sprintf("Says the account used %s; it has none.", words), Match: boolPtr(false)}
	}
	return it
}
