package account_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent/emailaddress"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

func TestCheckVerificationTokenAnswersAsVerifyEmailWould(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &loginClock{t: time.Now()}
	a := newAccounts(t, clk)
	at, _ := browsers()
	register := func() (int, string) {
		t.Helper()
		name := uniqueName("chk")
		u, err := a.Register(ctx, account.Registration{Username: name, Email: name + "@example.org", Password: "velvet kettle orbit nine"}, at)
		if err != nil {
			t.Fatal(err)
		}
		return u.ID, linkToken(t, u.ID, account.MailEmailVerification)
	}

	for _, bad := range []string{"", "forged", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		if err := a.CheckVerificationToken(ctx, bad); !errors.Is(err, account.ErrTokenInvalid) {
			t.Errorf("check %q: %v, want ErrTokenInvalid", bad, err)
		}
	}

	id, token := register()
	// Checking, twice, spends nothing: the link still verifies.
	for range 2 {
		if err := a.CheckVerificationToken(ctx, token); err != nil {
			t.Fatalf("check a fresh link: %v", err)
		}
	}
	if _, err := a.VerifyEmail(ctx, token, at); err != nil {
		t.Fatalf("verify after checks: %v", err)
	}
	if err := a.CheckVerificationToken(ctx, token); !errors.Is(err, account.ErrTokenUsed) {
		t.Fatalf("check a used link: %v, want ErrTokenUsed", err)
	}

	// Expired.
	_, token = register()
	clk.add(account.EmailVerificationTTL + time.Second)
	if err := a.CheckVerificationToken(ctx, token); !errors.Is(err, account.ErrTokenExpired) {
		t.Fatalf("check an expired link: %v, want ErrTokenExpired", err)
	}

	// The address verified by another account meanwhile: taken.
	otherID, otherToken := register()
	db := testdb.Store(t).Ent
	other, err := db.EmailAddress.Query().Where(emailaddress.UserID(otherID)).Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.EmailAddress.Create().SetUserID(id).SetAddress(other.Address).SetAddressNormalized(other.AddressNormalized).
		SetVerifiedAt(clk.now()).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.CheckVerificationToken(ctx, otherToken); !errors.Is(err, account.ErrEmailTaken) {
		t.Fatalf("check a link to a taken address: %v, want ErrEmailTaken", err)
	}
	if _, err := a.VerifyEmail(ctx, otherToken, at); !errors.Is(err, account.ErrEmailTaken) {
		t.Fatalf("verify a link to a taken address: %v, want ErrEmailTaken (as the check said)", err)
	}
}
