package account_test

import (
	"context"
	"errors"
	"net/mail"
	"net/url"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/securityevent"
	"github.com/recoverydesk/recoverydesk/ent/session"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// newServices wires every account service to the package database, with
// the WebAuthn origin the soft keys write (waOrigin).
func newServices(t *testing.T) (*account.Services, *store.Store) {
	t.Helper()
	st := testdb.Store(t)
	ob, err := mailbox.NewOutbox(mailbox.OutboxConfig{Client: st.Ent, From: mail.Address{Address: "support@desk.test"}})
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(waOrigin)
	s, err := account.NewServices(account.ServicesConfig{Store: st, Outbox: ob, SiteName: "Test Desk", BaseURL: base, Params: &cheap})
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

// signedIn is a user with a primary address and a session.
func signedIn(t *testing.T, s *account.Services, st *store.Store) (*ent.User, *ent.Session, string) {
	t.Helper()
	ctx := context.Background()
	u := makeUser(t, st.Ent)
	if err := st.Ent.EmailAddress.Create().SetUserID(u.ID).SetAddress(u.Username + "@example.org").
		SetAddressNormalized(u.Username + "@example.org").SetPrimary(true).SetVerifiedAt(time.Now()).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	token, err := s.Sessions.Create(ctx, nil, u.ID, account.SessionMeta{AuthMethods: []string{"password"}})
	if err != nil {
		t.Fatal(err)
	}
	row, err := st.Ent.Session.Query().Where(session.UserID(u.ID)).Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return u, row, token
}

func countEvents(t *testing.T, st *store.Store, userID int, kind account.EventKind) int {
	t.Helper()
	n, err := st.Ent.SecurityEvent.Query().Where(securityevent.UserID(userID), securityevent.Kind(string(kind))).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func countMails(t *testing.T, st *store.Store, userID int, purpose string) int {
	t.Helper()
	n, err := st.Ent.OutboundMail.Query().Where(outboundmail.UserID(userID), outboundmail.Purpose(purpose)).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestKeyRegistrationStateIsKeptInTheSessionAndUsedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, st := newServices(t)
	u, sess, _ := signedIn(t, s, st)
	at := account.Attempt{IP: "192.0.2.5", UserAgent: "test"}

	if _, err := s.FinishKeyRegistration(ctx, sess.ID, u.ID, "Blue key", []byte(`{}`), at); !errors.Is(err, account.ErrCeremonyExpired) {
		t.Fatalf("finish without begin: %v, want ErrCeremonyExpired", err)
	}
	opts, err := s.BeginKeyRegistration(ctx, sess.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	key := newSoftKey(t, waOrigin)
	resp := key.create(opts)

	// A refused name leaves the ceremony open for a second try.
	if _, err := s.FinishKeyRegistration(ctx, sess.ID, u.ID, "  ", resp, at); !errors.Is(err, account.ErrKeyNameInvalid) {
		t.Fatalf("empty name: %v, want ErrKeyNameInvalid", err)
	}
	cred, err := s.FinishKeyRegistration(ctx, sess.ID, u.ID, "Blue key", resp, at)
	if err != nil {
		t.Fatalf("finish after a name error: %v", err)
	}
	if cred.Name != "Blue key" || cred.UserID != u.ID {
		t.Errorf("key %+v", cred)
	}
	if n := countEvents(t, st, u.ID, account.EventWebAuthnAdded); n != 1 {
		t.Errorf("%d key-added events, want 1", n)
	}
	if n := countMails(t, st, u.ID, account.MailSecondFactorAdded); n != 1 {
		t.Errorf("%d key-added mails, want 1", n)
	}
	// The same answer again: the state is gone.
	if _, err := s.FinishKeyRegistration(ctx, sess.ID, u.ID, "Blue key 2", resp, at); !errors.Is(err, account.ErrCeremonyExpired) {
		t.Fatalf("second finish: %v, want ErrCeremonyExpired", err)
	}
	if err := s.CheckKeyName(ctx, u.ID, "BLUE KEY"); !errors.Is(err, account.ErrKeyNameTaken) {
		t.Errorf("CheckKeyName of a taken name: %v", err)
	}

	// A failed verification uses the state up too.
	opts, err = s.BeginKeyRegistration(ctx, sess.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinishKeyRegistration(ctx, sess.ID, u.ID, "Green key", []byte(`{"id":"x"}`), at); !errors.Is(err, account.ErrWebAuthnFailed) {
		t.Fatalf("garbage answer: %v, want ErrWebAuthnFailed", err)
	}
	if _, err := s.FinishKeyRegistration(ctx, sess.ID, u.ID, "Green key", newSoftKey(t, waOrigin).create(opts), at); !errors.Is(err, account.ErrCeremonyExpired) {
		t.Fatalf("finish after a failed one: %v, want ErrCeremonyExpired", err)
	}

	// Another session of the same user cannot finish this one's ceremony.
	_, err = s.BeginKeyRegistration(ctx, sess.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	otherToken, err := s.Sessions.Create(ctx, nil, u.ID, account.SessionMeta{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.Sessions.Lookup(ctx, otherToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinishKeyRegistration(ctx, other.ID, u.ID, "Red key", resp, at); !errors.Is(err, account.ErrCeremonyExpired) {
		t.Fatalf("finish from another session: %v, want ErrCeremonyExpired", err)
	}
}

func TestSecondFactorChangesRecordAndMail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, st := newServices(t)
	u, sess, _ := signedIn(t, s, st)
	at := account.Attempt{IP: "192.0.2.6", UserAgent: "test"}

	secret, err := s.TOTP.StartEnrolment(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A setup never confirmed is dropped quietly.
	if err := s.RemoveTOTP(ctx, u.ID, at); err != nil {
		t.Fatalf("remove a pending setup: %v", err)
	}
	if n := countEvents(t, st, u.ID, account.EventTOTPRemoved); n != 0 {
		t.Errorf("%d removal events for a setup never confirmed", n)
	}
	secret, err = s.TOTP.StartEnrolment(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ConfirmTOTPEnrolment(ctx, u.ID, "000000x", at); !errors.Is(err, account.ErrTOTPMalformed) {
		t.Fatalf("malformed code: %v", err)
	}
	if err := s.ConfirmTOTPEnrolment(ctx, u.ID, account.TOTPCode(secret, account.TOTPStep(time.Now())), at); err != nil {
		t.Fatal(err)
	}
	if countEvents(t, st, u.ID, account.EventTOTPAdded) != 1 || countMails(t, st, u.ID, account.MailSecondFactorAdded) != 1 {
		t.Error("TOTP added without its event and mail")
	}
	if err := s.RemoveTOTP(ctx, u.ID, at); !errors.Is(err, account.ErrLastSecondFactor) {
		t.Fatalf("remove the last factor: %v", err)
	}

	opts, err := s.BeginKeyRegistration(ctx, sess.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	key, err := s.FinishKeyRegistration(ctx, sess.ID, u.ID, "Key", newSoftKey(t, waOrigin).create(opts), at)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveTOTP(ctx, u.ID, at); err != nil {
		t.Fatalf("remove TOTP with a key left: %v", err)
	}
	if countEvents(t, st, u.ID, account.EventTOTPRemoved) != 1 || countMails(t, st, u.ID, account.MailSecondFactorRemoved) != 1 {
		t.Error("TOTP removed without its event and mail")
	}
	if err := s.RemoveKey(ctx, u.ID, key.ID, at); !errors.Is(err, account.ErrLastSecondFactor) {
		t.Fatalf("remove the last key: %v", err)
	}
	stranger, _, _ := signedIn(t, s, st)
	if err := s.RemoveKey(ctx, stranger.ID, key.ID, at); !errors.Is(err, account.ErrKeyNotFound) {
		t.Fatalf("remove another user's key: %v", err)
	}
}

func TestSessionRotateKeepsSignInTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, st := newServices(t)
	u, old, token := signedIn(t, s, st)
	signedInAt := time.Now().Add(-20 * time.Minute)
	// created_at is immutable in ent: age the session with SQL.
	if _, err := st.Pool.Exec(ctx, "UPDATE sessions SET created_at = $1 WHERE id = $2", signedInAt, old.ID); err != nil {
		t.Fatal(err)
	}

	fresh, err := s.Sessions.Rotate(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sessions.Lookup(ctx, token); !errors.Is(err, account.ErrSessionNotFound) {
		t.Errorf("old token after rotation: %v, want ErrSessionNotFound", err)
	}
	got, err := s.Sessions.Lookup(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != u.ID || got.ID == old.ID || !got.ExpiresAt.Equal(old.ExpiresAt) {
		t.Errorf("rotated session %+v (old id %d, expires %v)", got, old.ID, old.ExpiresAt)
	}
	// Rotation is not a fresh sign-in: re-authentication is still due.
	if err := s.Security.RequireReauth(ctx, got.ID); !errors.Is(err, account.ErrReauthRequired) {
		t.Errorf("RequireReauth after rotation: %v, want ErrReauthRequired", err)
	}
	if _, err := s.Sessions.Rotate(ctx, token); !errors.Is(err, account.ErrSessionNotFound) {
		t.Errorf("rotate a revoked token: %v", err)
	}
}

func TestConfirmPasswordIsRateLimited(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, st := newServices(t)
	u, sess, _ := signedIn(t, s, st)
	hash, err := account.HashPassword("correct horse battery staple", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Ent.User.UpdateOneID(u.ID).SetPasswordHash(hash).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	at := account.Attempt{IP: "192.0.2.8"}
	if err := s.ConfirmPassword(ctx, sess.ID, u.ID, "correct horse battery staple", at); err != nil {
		t.Fatal(err)
	}
	var limited *account.RateLimitedError
	for i := range 20 {
		err := s.ConfirmPassword(ctx, sess.ID, u.ID, "wrong", at)
		if errors.As(err, &limited) {
			if i < 9 {
				t.Fatalf("limited after %d attempts", i+1)
			}
			return
		}
		if !errors.Is(err, account.ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	t.Fatal("20 wrong passwords were not rate-limited")
}
