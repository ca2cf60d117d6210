package account_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/actiontoken"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// issueTestToken issues a token for userID or fails the test.
func issueTestToken(t *testing.T, client *ent.Client, purpose account.TokenPurpose, userID int, now time.Time) string {
	t.Helper()
	token, err := account.IssueToken(context.Background(), client, account.TokenParams{Purpose: purpose, UserID: &userID, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func TestTokenIssueAndConsume(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.Store(t)
	u := makeUser(t, st.Ent)
	now := time.Now()

	token, err := account.IssueToken(ctx, st.Ent, account.TokenParams{
		Purpose: account.TokenEmailVerification,
		UserID:  &u.ID,
		Email:   "ada@example.org",
		Data:    map[string]any{"email_id": 7.0},
		Now:     now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := base64.RawURLEncoding.DecodeString(token); len(raw) != 32 {
		t.Fatalf("token %q is not 256 bits of base64url", token)
	}
	hash := sha256.Sum256([]byte(token))
	stored, err := st.Ent.ActionToken.Query().Where(actiontoken.UserID(u.ID)).Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stored.TokenHash, hash[:]) {
		t.Fatal("the stored hash is not the token's SHA-256")
	}
	if d := stored.ExpiresAt.Sub(now); d < account.EmailVerificationTTL-time.Millisecond || d > account.EmailVerificationTTL+time.Millisecond {
		t.Errorf("expires %v after issue, want the default %v", d, account.EmailVerificationTTL)
	}

	row, err := account.ConsumeToken(ctx, st.Ent, account.TokenEmailVerification, token, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if row.UserID == nil || *row.UserID != u.ID || row.Email == nil || *row.Email != "ada@example.org" || row.Data["email_id"] != 7.0 {
		t.Errorf("consumed row %+v does not carry what was issued", row)
	}
	if row.UsedAt == nil {
		t.Error("consumed row has no used_at")
	}
	if _, err := account.ConsumeToken(ctx, st.Ent, account.TokenEmailVerification, token, now.Add(2*time.Minute)); !errors.Is(err, account.ErrTokenUsed) {
		t.Errorf("second use: %v, want ErrTokenUsed", err)
	}
	if _, err := account.PeekToken(ctx, st.Ent, account.TokenEmailVerification, token, now.Add(2*time.Minute)); !errors.Is(err, account.ErrTokenUsed) {
		t.Errorf("peek after use: %v, want ErrTokenUsed", err)
	}
}

func TestTokenExpired(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.Store(t)
	u := makeUser(t, st.Ent)
	issued := time.Now().Truncate(time.Second)

	early := issueTestToken(t, st.Ent, account.TokenPasswordReset, u.ID, issued)
	late := issueTestToken(t, st.Ent, account.TokenPasswordReset, u.ID, issued)
	if _, err := account.ConsumeToken(ctx, st.Ent, account.TokenPasswordReset, early, issued.Add(account.PasswordResetTTL-time.Second)); err != nil {
		t.Errorf("a second before expiry: %v", err)
	}
	expiry := issued.Add(account.PasswordResetTTL)
	if _, err := account.PeekToken(ctx, st.Ent, account.TokenPasswordReset, late, expiry); !errors.Is(err, account.ErrTokenExpired) {
		t.Errorf("peek at expiry: %v, want ErrTokenExpired", err)
	}
	if _, err := account.ConsumeToken(ctx, st.Ent, account.TokenPasswordReset, late, expiry); !errors.Is(err, account.ErrTokenExpired) {
		t.Errorf("consume at expiry: %v, want ErrTokenExpired", err)
	}
	// The failed attempt did not spend it: still expired, not used.
	if _, err := account.ConsumeToken(ctx, st.Ent, account.TokenPasswordReset, late, expiry.Add(time.Hour)); !errors.Is(err, account.ErrTokenExpired) {
		t.Errorf("consume after expiry: %v, want ErrTokenExpired", err)
	}
}

func TestTokenForgedAndWrongPurpose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.Store(t)
	u := makeUser(t, st.Ent)
	now := time.Now()
	token := issueTestToken(t, st.Ent, account.TokenPasswordReset, u.ID, now)

	random := make([]byte, 32)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	flipped := []byte(token)
	flipped[0] ^= 3 // one character off
	if flipped[0] == token[0] {
		t.Fatal("flip did nothing")
	}
	forged := []string{
		base64.RawURLEncoding.EncodeToString(random), // well-formed, never issued
		string(flipped),
		"",
		"not a token",
		token + "A",
		token[:42] + "!",
	}
	for _, f := range forged {
		if _, err := account.ConsumeToken(ctx, st.Ent, account.TokenPasswordReset, f, now); !errors.Is(err, account.ErrTokenInvalid) {
			t.Errorf("consume %q: %v, want ErrTokenInvalid", f, err)
		}
		if _, err := account.PeekToken(ctx, st.Ent, account.TokenPasswordReset, f, now); !errors.Is(err, account.ErrTokenInvalid) {
			t.Errorf("peek %q: %v, want ErrTokenInvalid", f, err)
		}
	}
	for _, p := range []account.TokenPurpose{account.TokenEmailVerification, account.TokenLoginConfirmation, "no_such_purpose"} {
		if _, err := account.ConsumeToken(ctx, st.Ent, p, token, now); !errors.Is(err, account.ErrTokenInvalid) {
			t.Errorf("consume as %s: %v, want ErrTokenInvalid", p, err)
		}
	}
	// None of that spent the real token.
	if _, err := account.ConsumeToken(ctx, st.Ent, account.TokenPasswordReset, token, now); err != nil {
		t.Errorf("the real token after forgeries: %v", err)
	}
}

func TestTokenConcurrentConsumeHasOneWinner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.Store(t)
	u := makeUser(t, st.Ent)
	now := time.Now()

	for round := range 3 {
		token := issueTestToken(t, st.Ent, account.TokenLoginConfirmation, u.ID, now)
		const n = 8
		start := make(chan struct{})
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				if i%2 == 0 {
					_, errs[i] = account.ConsumeToken(ctx, st.Ent, account.TokenLoginConfirmation, token, now)
					return
				}
				// In a transaction, as a handler that acts on the token would.
				errs[i] = st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
					_, err := account.ConsumeToken(ctx, tx.Ent, account.TokenLoginConfirmation, token, now)
					return err
				})
			})
		}
		close(start)
		wg.Wait()
		winners := 0
		for i, err := range errs {
			switch {
			case err == nil:
				winners++
			case !errors.Is(err, account.ErrTokenUsed):
				t.Errorf("round %d, consumer %d: %v, want nil or ErrTokenUsed", round, i, err)
			}
		}
		if winners != 1 {
			t.Errorf("round %d: %d consumers won, want exactly 1", round, winners)
		}
	}
}

func TestTokenConsumeRolledBackIsNotSpent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.Store(t)
	u := makeUser(t, st.Ent)
	now := time.Now()
	token := issueTestToken(t, st.Ent, account.TokenPasswordReset, u.ID, now)

	boom := errors.New("the new password was refused")
	err := st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		if _, err := account.ConsumeToken(ctx, tx.Ent, account.TokenPasswordReset, token, now); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx: %v", err)
	}
	if _, err := account.ConsumeToken(ctx, st.Ent, account.TokenPasswordReset, token, now); err != nil {
		t.Errorf("after a rolled-back use: %v, want the token still good", err)
	}
}

func TestTokenPeekDoesNotConsume(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.Store(t)
	u := makeUser(t, st.Ent)
	now := time.Now()
	token := issueTestToken(t, st.Ent, account.TokenLoginConfirmation, u.ID, now)

	for range 2 {
		row, err := account.PeekToken(ctx, st.Ent, account.TokenLoginConfirmation, token, now)
		if err != nil {
			t.Fatal(err)
		}
		if row.UsedAt != nil || *row.UserID != u.ID {
			t.Fatalf("peeked row %+v: used, or not the user's", row)
		}
	}
	if _, err := account.ConsumeToken(ctx, st.Ent, account.TokenLoginConfirmation, token, now); err != nil {
		t.Errorf("consume after peeks: %v", err)
	}
}

func TestTokenRevoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.Store(t)
	u, other := makeUser(t, st.Ent), makeUser(t, st.Ent)
	now := time.Now()

	old1 := issueTestToken(t, st.Ent, account.TokenPasswordReset, u.ID, now)
	old2 := issueTestToken(t, st.Ent, account.TokenPasswordReset, u.ID, now)
	verify := issueTestToken(t, st.Ent, account.TokenEmailVerification, u.ID, now)
	others := issueTestToken(t, st.Ent, account.TokenPasswordReset, other.ID, now)

	if err := account.RevokeTokens(ctx, st.Ent, u.ID, account.TokenPasswordReset, time.Now()); err != nil {
		t.Fatal(err)
	}
	fresh := issueTestToken(t, st.Ent, account.TokenPasswordReset, u.ID, time.Now())
	check := time.Now().Add(time.Second)
	for _, tok := range []string{old1, old2} {
		if _, err := account.ConsumeToken(ctx, st.Ent, account.TokenPasswordReset, tok, check); !errors.Is(err, account.ErrTokenExpired) {
			t.Errorf("revoked token: %v, want ErrTokenExpired", err)
		}
	}
	if _, err := account.ConsumeToken(ctx, st.Ent, account.TokenPasswordReset, fresh, check); err != nil {
		t.Errorf("token issued after the revocation: %v", err)
	}
	if _, err := account.ConsumeToken(ctx, st.Ent, account.TokenEmailVerification, verify, check); err != nil {
		t.Errorf("another purpose's token: %v", err)
	}
	if _, err := account.ConsumeToken(ctx, st.Ent, account.TokenPasswordReset, others, check); err != nil {
		t.Errorf("another user's token: %v", err)
	}
}

func TestTokenIssueRefusesBadParams(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.Store(t)
	if _, err := account.IssueToken(ctx, st.Ent, account.TokenParams{Purpose: "no_such_purpose"}); err == nil {
		t.Error("an unknown purpose was accepted")
	}
	if _, err := account.IssueToken(ctx, st.Ent, account.TokenParams{Purpose: account.TokenCaseStatus}); err == nil {
		t.Error("a purpose without a default TTL was accepted without one")
	}
	if _, err := account.IssueToken(ctx, st.Ent, account.TokenParams{Purpose: account.TokenCaseStatus, TTL: time.Hour}); err != nil {
		t.Errorf("with a TTL: %v", err)
	}
}
