package account_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent/emailaddress"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// TestResetSecondFactorsThenEnrol resets an account's 2FA with a new
// address, then sees the enrolment come due and clear once a factor
// exists.
func TestResetSecondFactorsThenEnrol(t *testing.T) {
	ctx := context.Background()
	st := testdb.Store(t)
	name := fmt.Sprintf("twofareset%d", time.Now().UnixNano())
	u := st.Ent.User.Create().SetUsername(name).SetUsernameNormalized(name).SaveX(ctx)
	st.Ent.EmailAddress.Create().SetUserID(u.ID).SetAddress(name + "@old.example").
		SetAddressNormalized(name + "@old.example").SetPrimary(true).SetVerifiedAt(time.Now()).ExecX(ctx)
	st.Ent.TOTPCredential.Create().SetUserID(u.ID).SetSecret([]byte("12345678901234567890")).SetConfirmedAt(time.Now()).ExecX(ctx)
	due, err := account.EnrolmentDue(ctx, st.Ent, u.ID)
	if err != nil || due {
		t.Fatalf("before the reset: due %v, %v", due, err)
	}

	newAddr := name + "@New.example"
	var res account.TwoFAResetResult
	err = st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		res, err = account.ResetSecondFactors(ctx, tx, u.ID, &newAddr, "system (test)", time.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.NewEmail != newAddr {
		t.Fatalf("new email %q", res.NewEmail)
	}
	primary := st.Ent.EmailAddress.Query().Where(emailaddress.UserID(u.ID), emailaddress.Primary(true)).OnlyX(ctx)
	if primary.Address != newAddr || primary.VerifiedAt == nil {
		t.Fatalf("primary %s verified %v", primary.Address, primary.VerifiedAt)
	}
	if f, _ := account.LoadSecondFactors(ctx, st.Ent, u.ID); f.Enabled() {
		t.Fatalf("factors after the reset: %+v", f)
	}
	if due, err := account.EnrolmentDue(ctx, st.Ent, u.ID); err != nil || !due {
		t.Fatalf("after the reset: due %v, %v", due, err)
	}
	st.Ent.TOTPCredential.Create().SetUserID(u.ID).SetSecret([]byte("12345678901234567890")).SetConfirmedAt(time.Now()).ExecX(ctx)
	if due, err := account.EnrolmentDue(ctx, st.Ent, u.ID); err != nil || due {
		t.Fatalf("after enrolling: due %v, %v", due, err)
	}
	if st.Ent.User.Query().Where(user.ID(u.ID), user.MustEnroll2fa(true)).ExistX(ctx) {
		t.Fatal("the flag was not cleared")
	}
}
