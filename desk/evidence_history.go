package desk

import (
	"context"
	"fmt"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/schema/types"
	"github.com/recoverydesk/recoverydesk/ent/securityevent"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
)

// How far back the account history is read, and what counts as a burst
// of failed sign-ins.
const (
	// ChangeWindow: a change of primary email, password or second factor
	// this long before the request (or since) is a red flag.
	ChangeWindow = 30 * 24 * time.Hour
	// DeviceWindow: a sign-in from a new browser this long before the
	// request (or since) is a red flag.
	DeviceWindow = 14 * 24 * time.Hour
	// BurstCount failed sign-ins within BurstSpan make a burst.
	BurstCount = 5
	BurstSpan  = time.Hour
)

// changeWords says what each flagged account change was.
var changeWords = map[account.EventKind]string{
	account.EventPrimaryEmailChanged:    "Primary email changed",
	account.EventEmailAdded:             "Email address added",
	account.EventPasswordChanged:        "Password changed",
	account.EventPasswordReset:          "Password reset by email",
	account.EventTOTPAdded:              "Authenticator app added",
	account.EventTOTPRemoved:            "Authenticator app removed",
	account.EventWebAuthnAdded:          "Security key or passkey added",
	account.EventWebAuthnRemoved:        "Security key or passkey removed",
	account.EventRecoveryCodesGenerated: "New recovery codes generated",
}

// newDeviceWords says what each new-browser sign-in event was. A held
// sign-in that is confirmed also trusts the browser; device_trusted is
// left out so one sign-in is not three red flags.
var newDeviceWords = map[account.EventKind]string{
	account.EventLoginHeld:      "Sign-in with the password and a second factor from an unrecognized browser (held for email confirmation)",
	account.EventLoginConfirmed: "Sign-in from a new browser, confirmed by email",
}

// checkHistory reads the account's recent security events and other open
// cases for red flags: each with its date, since a change three days ago
// means something else than one three weeks ago.
func (e *Evidence) checkHistory(ctx context.Context, caseID int) error {
	c, u, err := caseAccount(ctx, e.st.Ent, caseID)
	if err != nil || u == nil {
		return err
	}
	since := c.CreatedAt.Add(-ChangeWindow)
	events, err := e.st.Ent.SecurityEvent.Query().
		Where(securityevent.UserID(u.ID), securityevent.CreatedAtGTE(since)).
		Order(ent.Asc(securityevent.FieldCreatedAt), ent.Asc(securityevent.FieldID)).
		All(ctx)
	if err != nil {
		return fmt.Errorf("desk: history of %s: %w", u.Username, err)
	}
	var items []newItem
	var failed []*ent.SecurityEvent
	for _, ev := range events {
		kind := account.EventKind(ev.Kind)
		if words, ok := changeWords[kind]; ok {
			items = append(items, historyItem(KindAccountChange, ev, words))
		}
		if words, ok := newDeviceWords[kind]; ok && ev.CreatedAt.After(c.CreatedAt.Add(-DeviceWindow)) {
			items = append(items, historyItem(KindNewDevice, ev, words))
		}
		if kind == account.EventLoginFailed {
			failed = append(failed, ev)
		}
	}
	items = append(items, failedBursts(failed)...)
	others, err := e.st.Ent.SupportCase.Query().
		Where(
			supportcase.AccountID(u.ID),
			supportcase.IDNEQ(caseID),
			supportcase.MergedIntoIDIsNil(),
			supportcase.StatusNotIn(supportcase.StatusResolved, supportcase.StatusDenied, supportcase.StatusClosed),
		).
		Order(ent.Asc(supportcase.FieldCreatedAt)).
		All(ctx)
	if err != nil {
		return fmt.Errorf("desk: other cases of %s: %w", u.Username, err)
	}
	for _, o := range others {
		items = append(items, newItem{
			kind: KindOtherCase, strength: StrengthRedFlag, source: "cases",
			key: "other_case:" + o.Reference,
			finding: types.Finding{
				Summary: fmt.Sprintf("Another open case for this account: %s, opened %s by %s.", o.Reference, o.CreatedAt.Format(dateLayout), o.RequesterEmail),
				At:      timePtr(o.CreatedAt),
				Details: map[string]any{"reference": o.Reference, "requester": o.RequesterEmail},
			},
		})
	}
	if len(items) == 0 {
		return nil
	}
	return e.storeItems(ctx, caseID, items)
}

func historyItem(kind string, ev *ent.SecurityEvent, words string) newItem {
	details := map[string]any{"event": ev.Kind, "ip": ev.IP, "user_agent": ev.UserAgent}
	for k, v := range ev.Details {
		details[k] = v
	}
	summary := fmt.Sprintf("%s on %s", words, ev.CreatedAt.Format("2006-01-02 15:04 MST"))
	if ev.IP != "" {
		summary += " from " + ev.IP
	}
	return newItem{
		kind: kind, strength: StrengthRedFlag, source: "security events",
		key:     fmt.Sprintf("%s:%d", kind, ev.ID),
		finding: types.Finding{Summary: summary + ".", At: timePtr(ev.CreatedAt), Details: details},
	}
}

// failedBursts finds runs of at least BurstCount failed sign-ins, each
// within BurstSpan of the run's first; a run is one item, keyed by its
// first event so that a longer run seen later does not add a second.
func failedBursts(failed []*ent.SecurityEvent) []newItem {
	var items []newItem
	for i := 0; i < len(failed); {
		j := i
		for j < len(failed) && failed[j].CreatedAt.Sub(failed[i].CreatedAt) <= BurstSpan {
			j++
		}
		if j-i < BurstCount {
			i++
			continue
		}
		first, last := failed[i], failed[j-1]
		ips := map[string]bool{}
		for _, ev := range failed[i:j] {
			ips[ev.IP] = true
		}
		items = append(items, newItem{
			kind: KindFailedLogins, strength: StrengthRedFlag, source: "security events",
			key: fmt.Sprintf("failed_logins:%d", first.ID),
			finding: types.Finding{
				Summary: fmt.Sprintf("%d failed sign-ins between %s and %s from %d addresses.", j-i,
					first.CreatedAt.Format("2006-01-02 15:04"), last.CreatedAt.Format("15:04 MST"), len(ips)),
				At:      timePtr(first.CreatedAt),
				Details: map[string]any{"count": j - i, "from": first.CreatedAt, "to": last.CreatedAt},
			},
		})
		i = j
	}
	return items
}
