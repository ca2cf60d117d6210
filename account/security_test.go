package account_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent/recoverycode"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

func TestReauthWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newLoginBundle(t)
	at, _ := browsers()
	st := testdb.Store(t)
	sec := account.NewSecurity(st, b.sessions, newTestMailer(t, st), account.NewHasher(cheap, 0), b.clock.now)
	m := b.member(t, true, 0)
	token, _ := b.sessions.Create(ctx, nil, m.ID, account.SessionMeta{})
	s, _ := b.sessions.Lookup(ctx, token)

	if err := sec.RequireReauth(ctx, s.ID); err != nil {
		t.Fatalf("just signed in: %v", err)
	}
	b.clock.add(account.ReauthWindow + time.Second)
	if err := sec.RequireReauth(ctx, s.ID); !errors.Is(err, account.ErrReauthRequired) {
		t.Fatalf("16 minutes after sign-in: %v", err)
	}
	if err := sec.Reauthenticate(ctx, s.ID, m.ID, "wrong", at); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if err := sec.Reauthenticate(ctx, s.ID, m.ID, m.password, at); err != nil {
		t.Fatal(err)
	}
	if err := sec.RequireReauth(ctx, s.ID); err != nil {
		t.Fatalf("after re-authentication: %v", err)
	}
}

func TestSessionsDevicesAndRecoveryCodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newLoginBundle(t)
	at, _ := browsers()
	st := testdb.Store(t)
	sec := account.NewSecurity(st, b.sessions, newTestMailer(t, st), account.NewHasher(cheap, 0), b.clock.now)
	m := b.member(t, true, 8)
	intruder := b.member(t, false, 0)

	mine, _ := b.sessions.Create(ctx, nil, m.ID, account.SessionMeta{UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"})
	other, _ := b.sessions.Create(ctx, nil, m.ID, account.SessionMeta{})
	cur, _ := b.sessions.Lookup(ctx, mine)
	oth, _ := b.sessions.Lookup(ctx, other)
	list, err := sec.ListSessions(ctx, m.ID, cur.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("sessions: %+v, %v", list, err)
	}
	if err := sec.RevokeSession(ctx, intruder.ID, oth.ID, at); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("revoking another user's session: %v", err)
	}
	if err := sec.RevokeSession(ctx, m.ID, oth.ID, at); err != nil {
		t.Fatal(err)
	}
	if _, err := b.sessions.Lookup(ctx, other); !errors.Is(err, account.ErrSessionNotFound) {
		t.Fatal("revoked session still authenticates")
	}

	d, err := st.Ent.TrustedDevice.Create().SetUserID(m.ID).SetDeviceHash([]byte("device")).SetLastUsedAt(b.clock.now()).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	devices, _ := sec.ListDevices(ctx, m.ID)
	if len(devices) != 1 || !devices[0].Expires.Equal(d.LastUsedAt.Add(account.TrustedDeviceTTL)) {
		t.Fatalf("devices: %+v", devices)
	}
	if err := sec.RevokeDevice(ctx, m.ID, d.ID, at); err != nil {
		t.Fatal(err)
	}
	if devices, _ := sec.ListDevices(ctx, m.ID); len(devices) != 0 {
		t.Fatal("revoked device still listed")
	}

	codes, err := sec.RegenerateRecoveryCodes(ctx, m.ID, at)
	if err != nil || len(codes) != 8 {
		t.Fatalf("codes: %v, %v", codes, err)
	}
	if _, err := account.UseRecoveryCode(ctx, st.Ent, m.ID, m.codes[0], b.clock.now()); !errors.Is(err, account.ErrRecoveryCodeInvalid) {
		t.Fatalf("an old code survived regeneration: %v", err)
	}
	left, err := account.UseRecoveryCode(ctx, st.Ent, m.ID, codes[0], b.clock.now())
	if err != nil || left != 7 {
		t.Fatalf("new code: %d left, %v", left, err)
	}
	n, _ := st.Ent.RecoveryCode.Query().Where(recoverycode.UserID(m.ID), recoverycode.Batch(2)).Count(ctx)
	if n != 8 {
		t.Fatalf("%d codes in batch 2", n)
	}
}
