package account_test

import (
	"context"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// TestHasSecondFactorAgreesWithLoad: the one-query check the 2FA
// requirement uses answers as LoadSecondFactors(...).Enabled() does, for
// each way of having (or seeming to have) a second factor.
func TestHasSecondFactorAgreesWithLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.Store(t)
	clk := &clock{t: time.Unix(1700000000, 0)}
	sec := account.NewSecurity(st, nil, nil, nil, clk.now)
	totp := account.NewTOTP(st.Ent, clk.now)

	none := makeUser(t, st.Ent)
	pending := makeUser(t, st.Ent) // an authenticator app never confirmed
	if _, err := totp.StartEnrolment(ctx, pending.ID); err != nil {
		t.Fatal(err)
	}
	codesOnly := makeUser(t, st.Ent) // recovery codes are no second factor alone
	if err := st.Ent.RecoveryCode.Create().SetUserID(codesOnly.ID).SetCodeHash(account.HashRecoveryCode("abcd-efgh")).SetBatch(1).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	app := makeUser(t, st.Ent)
	enrolTOTP(t, totp, clk, app.ID)
	key := makeUser(t, st.Ent)
	if err := st.Ent.WebAuthnCredential.Create().SetUserID(key.ID).SetName("YubiKey").
		SetCredentialID([]byte(key.Username)).SetPublicKey([]byte{1, 2, 3}).Exec(ctx); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name string
		id   int
		want bool
	}{{"nothing", none.ID, false}, {"unconfirmed app", pending.ID, false}, {"recovery codes only", codesOnly.ID, false}, {"authenticator app", app.ID, true}, {"security key", key.ID, true}} {
		got, err := sec.HasSecondFactor(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		f, err := account.LoadSecondFactors(ctx, st.Ent, c.id)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want || f.Enabled() != c.want {
			t.Errorf("%s: HasSecondFactor %v, LoadSecondFactors.Enabled %v; want %v", c.name, got, f.Enabled(), c.want)
		}
	}
}
