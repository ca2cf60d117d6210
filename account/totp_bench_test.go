package account_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// BenchmarkMatchTOTP is the pure code check: every step in the skew window
// is computed and compared, whether the code matches or not.
func BenchmarkMatchTOTP(b *testing.B) {
	secret, err := account.NewTOTPSecret()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Unix(1700000000, 0)
	step := account.TOTPStep(now)
	code := account.TOTPCode(secret, step)
	b.ReportAllocs()
	for b.Loop() {
		if got, err := account.MatchTOTP(secret, code, now, step-1); err != nil || got != step {
			b.Fatalf("MatchTOTP = %d, %v", got, err)
		}
	}
}

// BenchmarkTOTPVerify is a sign-in check through the database: load the
// confirmed credential, match, and the conditional update that uses the
// code up (replay protection). The clock moves one step per iteration so
// every code is fresh; computing that code is part of the measured loop
// but costs about a microsecond.
func BenchmarkTOTPVerify(b *testing.B) {
	ctx := context.Background()
	st := testdb.Store(b)
	clk := &clock{t: time.Unix(1700000000, 0)}
	svc := account.NewTOTP(st.Ent, clk.now)
	name := fmt.Sprintf("totpbench%d", time.Now().UnixNano())
	u, err := st.Ent.User.Create().SetUsername(name).SetUsernameNormalized(name).Save(ctx)
	if err != nil {
		b.Fatal(err)
	}
	secret, err := svc.StartEnrolment(ctx, u.ID)
	if err != nil {
		b.Fatal(err)
	}
	if err := svc.ConfirmEnrolment(ctx, nil, u.ID, account.TOTPCode(secret, account.TOTPStep(clk.t))); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		clk.t = clk.t.Add(account.TOTPPeriod)
		if err := svc.Verify(ctx, nil, u.ID, account.TOTPCode(secret, account.TOTPStep(clk.t))); err != nil {
			b.Fatal(err)
		}
	}
}
