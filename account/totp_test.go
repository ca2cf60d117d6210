package account_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent/totpcredential"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// rfcSecret is the SHA-1 seed of RFC 4226 and RFC 6238's test vectors.
var rfcSecret = []byte("12345678901234567890")

func TestTOTPRFC6238Vectors(t *testing.T) {
	t.Parallel()
	// RFC 6238 Appendix B, SHA-1 rows.
	for _, tc := range []struct {
		unix int64
		step int64
		want string
	}{
		{59, 0x1, "94287082"},
		{1111111109, 0x23523EC, "07081804"},
		{1111111111, 0x23523ED, "14050471"},
		{1234567890, 0x273EF07, "89005924"},
		{2000000000, 0x3F940AA, "69279037"},
		{20000000000, 0x27BC86AA, "65353130"},
	} {
		at := time.Unix(tc.unix, 0)
		if got := account.TOTPStep(at); got != tc.step {
			t.Errorf("TOTPStep(%d) = %#x, want %#x", tc.unix, got, tc.step)
		}
		if got := account.HOTP(rfcSecret, uint64(tc.step), 8); got != tc.want {
			t.Errorf("8-digit code at %d = %s, want %s", tc.unix, got, tc.want)
		}
		if got := account.TOTPCode(rfcSecret, account.TOTPStep(at)); got != tc.want[2:] {
			t.Errorf("TOTPCode at %d = %s, want %s", tc.unix, got, tc.want[2:])
		}
	}
}

func TestTOTPHOTPRFC4226Vectors(t *testing.T) {
	t.Parallel()
	// RFC 4226 Appendix D.
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	for counter, w := range want {
		if got := account.HOTP(rfcSecret, uint64(counter), 6); got != w {
			t.Errorf("HOTP(%d) = %s, want %s", counter, got, w)
		}
	}
}

func TestTOTPStepBoundaries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		at   time.Time
		want int64
	}{
		{time.Unix(0, 0), 0},
		{time.Unix(29, 999999999), 0},
		{time.Unix(30, 0), 1},
		{time.Unix(-1, 0), -1},
		{time.Unix(-30, 0), -1},
		{time.Unix(-31, 0), -2},
	} {
		if got := account.TOTPStep(tc.at); got != tc.want {
			t.Errorf("TOTPStep(%v) = %d, want %d", tc.at.Unix(), got, tc.want)
		}
	}
}

func TestTOTPMatchSkew(t *testing.T) {
	t.Parallel()
	now := time.Unix(1700000015, 0)
	step := account.TOTPStep(now)
	for offset := int64(-3); offset <= 3; offset++ {
		code := account.TOTPCode(rfcSecret, step+offset)
		got, err := account.MatchTOTP(rfcSecret, code, now, 0)
		if offset >= -account.TOTPSkew && offset <= account.TOTPSkew {
			if err != nil || got != step+offset {
				t.Errorf("offset %+d: MatchTOTP = %d, %v; want step %d", offset, got, err, step+offset)
			}
			continue
		}
		if !errors.Is(err, account.ErrTOTPInvalid) {
			t.Errorf("offset %+d: MatchTOTP = %d, %v; want ErrTOTPInvalid", offset, got, err)
		}
	}
	// The wrong secret's code is refused.
	if _, err := account.MatchTOTP([]byte("another secret 12345"), account.TOTPCode(rfcSecret, step), now, 0); !errors.Is(err, account.ErrTOTPInvalid) {
		t.Errorf("code of another secret: %v, want ErrTOTPInvalid", err)
	}
}

func TestTOTPMatchReplay(t *testing.T) {
	t.Parallel()
	now := time.Unix(1700000015, 0)
	step := account.TOTPStep(now)
	code := account.TOTPCode(rfcSecret, step)
	for _, tc := range []struct {
		name     string
		code     string
		lastStep int64
		want     error
	}{
		{"same step again", code, step, account.ErrTOTPReplayed},
		{"older step after a newer one", account.TOTPCode(rfcSecret, step-1), step, account.ErrTOTPReplayed},
		{"current after the future one was used", code, step + 1, account.ErrTOTPReplayed},
		{"newer than the last", account.TOTPCode(rfcSecret, step+1), step, nil},
		{"current after the previous", code, step - 1, nil},
	} {
		_, err := account.MatchTOTP(rfcSecret, tc.code, now, tc.lastStep)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: MatchTOTP = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestTOTPMatchInputForms(t *testing.T) {
	t.Parallel()
	now := time.Unix(1700000015, 0)
	code := account.TOTPCode(rfcSecret, account.TOTPStep(now))
	for _, in := range []string{code, code[:3] + " " + code[3:], " " + code + "\n", "\t" + code[:3] + "  " + code[3:] + " "} {
		if _, err := account.MatchTOTP(rfcSecret, in, now, 0); err != nil {
			t.Errorf("MatchTOTP(%q) = %v, want accepted", in, err)
		}
	}
	for _, in := range []string{"", "   ", code[:5], code + "0", code[:3] + "-" + code[3:], "12a456", "１２３４５６", "٠١٢٣٤٥", strings.Repeat(" ", 100) + code} {
		if _, err := account.MatchTOTP(rfcSecret, in, now, 0); !errors.Is(err, account.ErrTOTPMalformed) {
			t.Errorf("MatchTOTP(%q) = %v, want ErrTOTPMalformed", in, err)
		}
	}
}

func TestTOTPKeyURI(t *testing.T) {
	t.Parallel()
	secret := []byte("12345678901234567890")
	got := account.TOTPKeyURI("Recovery Desk", "ada+pkg@example.org", secret)
	want := "otpauth://totp/Recovery%20Desk:ada%2Bpkg%40example.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Recovery%20Desk&algorithm=SHA1&digits=6&period=30"
	if got != want {
		t.Errorf("TOTPKeyURI =\n %s\nwant\n %s", got, want)
	}

	// Characters that would split the label or the query stay inside
	// their part.
	issuer, name := "A:B & C?", "x/y#z:w%"
	u, err := url.Parse(account.TOTPKeyURI(issuer, name, secret))
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "otpauth" || u.Host != "totp" {
		t.Errorf("scheme/host = %q/%q", u.Scheme, u.Host)
	}
	label := strings.TrimPrefix(u.EscapedPath(), "/")
	parts := strings.Split(label, ":")
	if len(parts) != 2 {
		t.Fatalf("label %q has %d colon-separated parts, want 2", label, len(parts))
	}
	if gotIssuer, _ := url.PathUnescape(parts[0]); gotIssuer != issuer {
		t.Errorf("label issuer = %q, want %q", gotIssuer, issuer)
	}
	if gotName, _ := url.PathUnescape(parts[1]); gotName != name {
		t.Errorf("label account = %q, want %q", gotName, name)
	}
	q := u.Query()
	if q.Get("issuer") != issuer || q.Get("algorithm") != "SHA1" || q.Get("digits") != "6" || q.Get("period") != "30" {
		t.Errorf("query = %v", q)
	}
	if dec, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(q.Get("secret")); err != nil || !bytes.Equal(dec, secret) {
		t.Errorf("secret parameter %q decodes to %q, %v", q.Get("secret"), dec, err)
	}
}

func TestTOTPSecretFormat(t *testing.T) {
	t.Parallel()
	if got, want := account.FormatTOTPSecret(rfcSecret), "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"; got != want {
		t.Errorf("FormatTOTPSecret = %q, want %q", got, want)
	}
	if got, want := account.FormatTOTPSecret([]byte("hi!")), "NBUS C"; got != want {
		t.Errorf("FormatTOTPSecret(short) = %q, want %q", got, want)
	}
	a, err := account.NewTOTPSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, err := account.NewTOTPSecret()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 20 || bytes.Equal(a, b) {
		t.Fatalf("secrets %x and %x: want 20 random bytes each", a, b)
	}
	typed := strings.ReplaceAll(account.FormatTOTPSecret(a), " ", "")
	if dec, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(typed); err != nil || !bytes.Equal(dec, a) {
		t.Errorf("formatted secret does not decode back: %x, %v", dec, err)
	}
}

// enrolTOTP starts and confirms an enrolment at clk's time and returns the
// secret; the code used for confirming is spent.
func enrolTOTP(t *testing.T, svc *account.TOTP, clk *clock, userID int) []byte {
	t.Helper()
	ctx := context.Background()
	secret, err := svc.StartEnrolment(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.ConfirmEnrolment(ctx, nil, userID, account.TOTPCode(secret, account.TOTPStep(clk.t))); err != nil {
		t.Fatal(err)
	}
	return secret
}

func TestTOTPEnrolment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.Store(t)
	clk := &clock{t: time.Unix(1700000000, 0)}
	svc := account.NewTOTP(st.Ent, clk.now)
	u := makeUser(t, st.Ent)

	if err := svc.ConfirmEnrolment(ctx, nil, u.ID, "123456"); !errors.Is(err, account.ErrTOTPEnrolmentNotStarted) {
		t.Fatalf("confirm before start: %v", err)
	}
	first, err := svc.StartEnrolment(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Restarting (e.g. reloading the setup page) replaces the secret.
	secret, err := svc.StartEnrolment(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(first, secret) {
		t.Fatal("a restarted enrolment kept the old secret")
	}
	if pending, err := svc.PendingSecret(ctx, u.ID); err != nil || !bytes.Equal(pending, secret) {
		t.Fatalf("PendingSecret = %x, %v; want %x", pending, err, secret)
	}
	// A pending credential is not a second factor, and cannot sign in.
	assertTOTPFactor(t, st, u.ID, false)
	if err := svc.Verify(ctx, nil, u.ID, account.TOTPCode(secret, account.TOTPStep(clk.t))); !errors.Is(err, account.ErrTOTPNotEnrolled) {
		t.Fatalf("Verify with a pending enrolment: %v", err)
	}

	step := account.TOTPStep(clk.t)
	for _, tc := range []struct {
		code string
		want error
	}{
		{account.TOTPCode(first, step), account.ErrTOTPInvalid},
		{wrongCode(secret, step), account.ErrTOTPInvalid},
		{"12345", account.ErrTOTPMalformed},
	} {
		if err := svc.ConfirmEnrolment(ctx, nil, u.ID, tc.code); !errors.Is(err, tc.want) {
			t.Errorf("confirm with %q: %v, want %v", tc.code, err, tc.want)
		}
	}
	assertTOTPFactor(t, st, u.ID, false)

	code := account.TOTPCode(secret, step)
	if err := svc.ConfirmEnrolment(ctx, nil, u.ID, code); err != nil {
		t.Fatal(err)
	}
	assertTOTPFactor(t, st, u.ID, true)
	if _, err := svc.PendingSecret(ctx, u.ID); !errors.Is(err, account.ErrTOTPEnrolmentNotStarted) {
		t.Errorf("PendingSecret after confirming: %v", err)
	}

	// The confirmed credential is neither replaced nor confirmed twice.
	if _, err := svc.StartEnrolment(ctx, u.ID); !errors.Is(err, account.ErrTOTPAlreadyEnrolled) {
		t.Errorf("start while enrolled: %v", err)
	}
	cred, err := st.Ent.TOTPCredential.Query().Where(totpcredential.UserID(u.ID)).Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cred.Secret, secret) || cred.LastUsedStep != step {
		t.Errorf("stored credential: secret changed=%v, last step %d want %d", !bytes.Equal(cred.Secret, secret), cred.LastUsedStep, step)
	}
	if err := svc.ConfirmEnrolment(ctx, nil, u.ID, account.TOTPCode(secret, step+1)); !errors.Is(err, account.ErrTOTPAlreadyEnrolled) {
		t.Errorf("confirm twice: %v", err)
	}

	// The confirming code is spent; the next step's code signs in once.
	if err := svc.Verify(ctx, nil, u.ID, code); !errors.Is(err, account.ErrTOTPReplayed) {
		t.Errorf("sign in with the confirming code: %v", err)
	}
	clk.t = clk.t.Add(account.TOTPPeriod)
	next := account.TOTPCode(secret, step+1)
	if err := svc.Verify(ctx, nil, u.ID, next); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	if err := svc.Verify(ctx, nil, u.ID, next); !errors.Is(err, account.ErrTOTPReplayed) {
		t.Errorf("same code twice: %v", err)
	}
	if err := svc.Verify(ctx, nil, u.ID, wrongCode(secret, step+1)); !errors.Is(err, account.ErrTOTPInvalid) {
		t.Errorf("wrong code: %v", err)
	}
}

func TestTOTPVerifyConcurrentSameCode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.Store(t)
	clk := &clock{t: time.Unix(1700000000, 0)}
	svc := account.NewTOTP(st.Ent, clk.now)
	u := makeUser(t, st.Ent)
	secret := enrolTOTP(t, svc, clk, u.ID)
	clk.t = clk.t.Add(account.TOTPPeriod)
	code := account.TOTPCode(secret, account.TOTPStep(clk.t))

	const n = 8
	errs := make(chan error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			// Half sign in inside a transaction, half outside one.
			if i%2 == 0 {
				errs <- svc.Verify(ctx, nil, u.ID, code)
				return
			}
			errs <- st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
				return svc.Verify(ctx, tx.Ent, u.ID, code)
			})
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, account.ErrTOTPReplayed):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent sign-ins with one code succeeded, want exactly 1", ok, n)
	}
}

// TestTOTPVerifyStaleRead forces the race the conditional update exists
// for: B reads the credential while A's use of the same code is not yet
// committed, so only the UPDATE's WHERE can refuse B. Not parallel, so the
// lock wait it looks for in pg_stat_activity can only be B's.
func TestTOTPVerifyStaleRead(t *testing.T) {
	ctx := context.Background()
	st := testdb.Store(t)
	clk := &clock{t: time.Unix(1700000000, 0)}
	svc := account.NewTOTP(st.Ent, clk.now)
	u := makeUser(t, st.Ent)
	secret := enrolTOTP(t, svc, clk, u.ID)
	clk.t = clk.t.Add(account.TOTPPeriod)
	code := account.TOTPCode(secret, account.TOTPStep(clk.t))

	bErr := make(chan error, 1)
	err := st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := svc.Verify(ctx, tx.Ent, u.ID, code); err != nil {
			return err
		}
		go func() { bErr <- svc.Verify(ctx, nil, u.ID, code) }()
		// Commit only once B is blocked on A's row lock (it got past its read).
		deadline := time.Now().Add(10 * time.Second)
		for {
			var waiting int
			err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock'
				AND query LIKE 'UPDATE "totp_credentials"%'`).Scan(&waiting)
			if err != nil {
				return err
			}
			if waiting > 0 {
				return nil
			}
			// No t.Fatal in here: it would leave the transaction open.
			select {
			case err := <-bErr:
				return fmt.Errorf("B finished before A committed: %v", err)
			default:
			}
			if time.Now().After(deadline) {
				return errors.New("B never waited for A's row lock")
			}
			time.Sleep(5 * time.Millisecond) // polling interval, not synchronisation
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-bErr; !errors.Is(err, account.ErrTOTPReplayed) {
		t.Fatalf("B after A committed: %v, want ErrTOTPReplayed", err)
	}
}

func TestTOTPRemove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.Store(t)
	clk := &clock{t: time.Unix(1700000000, 0)}
	svc := account.NewTOTP(st.Ent, clk.now)
	u := makeUser(t, st.Ent)

	if err := svc.Remove(ctx, nil, u.ID); !errors.Is(err, account.ErrTOTPNotEnrolled) {
		t.Fatalf("remove with nothing set up: %v", err)
	}
	// A pending enrolment is no factor: cancelling it is always allowed.
	if _, err := svc.StartEnrolment(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.Remove(ctx, nil, u.ID); err != nil {
		t.Fatalf("cancel a pending enrolment: %v", err)
	}

	enrolTOTP(t, svc, clk, u.ID)
	if err := svc.Remove(ctx, nil, u.ID); !errors.Is(err, account.ErrLastSecondFactor) {
		t.Fatalf("remove the only factor: %v", err)
	}
	assertTOTPFactor(t, st, u.ID, true)

	if err := st.Ent.WebAuthnCredential.Create().
		SetUserID(u.ID).SetName("YubiKey").
		SetCredentialID([]byte(u.Username)).SetPublicKey([]byte{1, 2, 3}).
		Exec(ctx); err != nil {
		t.Fatal(err)
	}
	err := st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		return svc.Remove(ctx, tx.Ent, u.ID)
	})
	if err != nil {
		t.Fatalf("remove with a security key left: %v", err)
	}
	assertTOTPFactor(t, st, u.ID, false)
	if n, err := st.Ent.TOTPCredential.Query().Where(totpcredential.UserID(u.ID)).Count(ctx); err != nil || n != 0 {
		t.Fatalf("%d credentials left, %v", n, err)
	}
	// Removed, the app can be set up again.
	enrolTOTP(t, svc, clk, u.ID)
}

func assertTOTPFactor(t *testing.T, st *store.Store, userID int, want bool) {
	t.Helper()
	f, err := account.LoadSecondFactors(context.Background(), st.Ent, userID)
	if err != nil {
		t.Fatal(err)
	}
	if f.TOTP != want {
		t.Fatalf("user %d has TOTP = %v, want %v", userID, f.TOTP, want)
	}
}

// wrongCode is a well-formed code that matches none of the accepted steps
// around step.
func wrongCode(secret []byte, step int64) string {
	accepted := map[string]bool{}
	for s := step - account.TOTPSkew; s <= step+account.TOTPSkew; s++ {
		accepted[account.TOTPCode(secret, s)] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if !accepted[c] {
			return c
		}
	}
	panic("unreachable: three steps cannot use four codes")
}
