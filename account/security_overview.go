package account

import (
	"context"
	"fmt"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/recoverycode"
	"github.com/recoverydesk/recoverydesk/ent/totpcredential"
	"github.com/recoverydesk/recoverydesk/ent/webauthncredential"
)

// SecurityOverview is everything the account's security page shows.
type SecurityOverview struct {
	Factors SecondFactors
	// TOTPPending: an authenticator app setup was started, not confirmed.
	TOTPPending bool
	Keys        []KeyInfo
	// RecoveryCodesLeft counts the unused recovery codes.
	RecoveryCodesLeft int
	Sessions          []SessionInfo
	Devices           []DeviceInfo
	Events            []Event
	// Emails are the account's addresses, the primary one first.
	Emails []EmailInfo
}

// KeyInfo is a security key or passkey as the security page lists it.
type KeyInfo struct {
	ID    int
	Name  string
	Added time.Time
	// LastUsed is zero when the key was never used to sign in.
	LastUsed time.Time
	Passkey  bool
}

// SecurityEventsShown is how many recent events the security page lists.
const SecurityEventsShown = 20

// Overview gathers the security page of userID, signed in with session
// currentID (marked Current in the session list).
func (s *Security) Overview(ctx context.Context, userID, currentID int) (*SecurityOverview, error) {
	var o SecurityOverview
	var err error
	if o.Factors, err = LoadSecondFactors(ctx, s.st.Ent, userID); err != nil {
		return nil, err
	}
	if !o.Factors.TOTP {
		o.TOTPPending, err = s.st.Ent.TOTPCredential.Query().
			Where(totpcredential.UserID(userID), totpcredential.ConfirmedAtIsNil()).
			Exist(ctx)
		if err != nil {
			return nil, fmt.Errorf("account: pending TOTP of user %d: %w", userID, err)
		}
	}
	if o.RecoveryCodesLeft, err = s.st.Ent.RecoveryCode.Query().
		Where(recoverycode.UserID(userID), recoverycode.UsedAtIsNil()).
		Count(ctx); err != nil {
		return nil, fmt.Errorf("account: count recovery codes of user %d: %w", userID, err)
	}
	keys, err := s.st.Ent.WebAuthnCredential.Query().
		Where(webauthncredential.UserID(userID)).
		Order(ent.Asc(webauthncredential.FieldCreatedAt), ent.Asc(webauthncredential.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("account: list keys of user %d: %w", userID, err)
	}
	for _, k := range keys {
		info := KeyInfo{ID: k.ID, Name: k.Name, Added: k.CreatedAt, Passkey: k.Discoverable}
		if k.LastUsedAt != nil {
			info.LastUsed = *k.LastUsedAt
		}
		o.Keys = append(o.Keys, info)
	}
	if o.Sessions, err = s.ListSessions(ctx, userID, currentID); err != nil {
		return nil, err
	}
	if o.Devices, err = s.ListDevices(ctx, userID); err != nil {
		return nil, err
	}
	if o.Events, err = ListEvents(ctx, s.st.Ent, userID, SecurityEventsShown); err != nil {
		return nil, err
	}
	if o.Emails, err = listEmails(ctx, s.st.Ent, userID); err != nil {
		return nil, err
	}
	return &o, nil
}

// SecondFactors reads which second factors userID has, for the 2FA
// requirement of management pages.
func (s *Security) SecondFactors(ctx context.Context, userID int) (SecondFactors, error) {
	return LoadSecondFactors(ctx, s.st.Ent, userID)
}

// HasSecondFactor says whether userID has a confirmed authenticator app
// or a security key: SecondFactors(...).Enabled() in one query, since the
// 2FA requirement asks it on every request to a management page.
func (s *Security) HasSecondFactor(ctx context.Context, userID int) (bool, error) {
	var ok bool
	err := s.st.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM totp_credentials WHERE user_id = $1 AND confirmed_at IS NOT NULL)
		OR EXISTS (SELECT 1 FROM webauthn_credentials WHERE user_id = $1)`, userID).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("account: second factors of user %d: %w", userID, err)
	}
	return ok, nil
}
