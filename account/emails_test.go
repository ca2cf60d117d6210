package account_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/emailaddress"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/internal/ratelimit"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// emailUser is a registered account whose first address is verified.
type emailUser struct {
	*ent.User
	first string
}

func newEmailUser(t *testing.T, a *account.Accounts, at account.Attempt) emailUser {
	t.Helper()
	ctx := context.Background()
	name := uniqueName("em")
	first := name + "@example.org"
	u, err := a.Register(ctx, account.Registration{Username: name, Email: first, Password: "velvet kettle orbit nine"}, at)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.VerifyEmail(ctx, linkToken(t, u.ID, account.MailEmailVerification), at); err != nil {
		t.Fatal(err)
	}
	return emailUser{User: u, first: first}
}

// mailsTo returns the mails of purpose queued for userID to address,
// oldest first.
func mailsTo(t *testing.T, userID int, purpose, address string) []*ent.OutboundMail {
	t.Helper()
	rows, err := testdb.Store(t).Ent.OutboundMail.Query().
		Where(outboundmail.UserID(userID), outboundmail.Purpose(purpose), outboundmail.ToAddress(address)).
		Order(ent.Asc(outboundmail.FieldID)).All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

var mailToken = regexp.MustCompile(`token=([A-Za-z0-9_-]+)`)

// tokenIn is the token of the link in a mail.
func tokenIn(t *testing.T, m *ent.OutboundMail) string {
	t.Helper()
	found := mailToken.FindStringSubmatch(m.BodyText)
	if found == nil {
		t.Fatalf("no link in the %s mail:\n%s", m.Purpose, m.BodyText)
	}
	return found[1]
}

// emailOf finds userID's address by its normalized form.
func emailOf(t *testing.T, userID int, address string) *ent.EmailAddress {
	t.Helper()
	e, err := testdb.Store(t).Ent.EmailAddress.Query().
		Where(emailaddress.UserID(userID), emailaddress.AddressNormalized(account.NormalizeEmail(address))).
		Only(context.Background())
	if err != nil {
		t.Fatalf("address %s of user %d: %v", address, userID, err)
	}
	return e
}

// eventsOf returns userID's events of kind, newest first.
func eventsOf(t *testing.T, userID int, kind account.EventKind) []account.Event {
	t.Helper()
	all, err := account.ListEvents(context.Background(), testdb.Store(t).Ent, userID, account.MaxEventLimit)
	if err != nil {
		t.Fatal(err)
	}
	var out []account.Event
	for _, e := range all {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func wantFieldError(t *testing.T, err error, field, says string) {
	t.Helper()
	var fe account.FieldErrors
	if !errors.As(err, &fe) || !strings.Contains(fe[field], says) {
		t.Fatalf("got %v, want a %s field error saying %q", err, field, says)
	}
}

func TestAddEmailMailsBothAddressesAndVerifies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &loginClock{t: time.Now()}
	a := newAccounts(t, clk)
	at, _ := browsers()
	u := newEmailUser(t, a, at)
	second := "Second." + u.Username + "@Example.net"

	if err := a.AddEmail(ctx, u.ID, "  "+second+" ", at); err != nil {
		t.Fatal(err)
	}
	verify := mailsTo(t, u.ID, account.MailEmailVerification, second)
	if len(verify) != 1 {
		t.Fatalf("%d verification mails to the new address, want 1", len(verify))
	}
	notice := mailsTo(t, u.ID, account.MailEmailAdded, u.first)
	if len(notice) != 1 || !strings.Contains(notice[0].BodyText, second) || !strings.Contains(notice[0].BodyText, "Firefox 128 on Linux") {
		t.Fatalf("notice to the old address: %d mails, want 1 naming the new address and the browser", len(notice))
	}
	if n := len(mailsTo(t, u.ID, account.MailEmailAdded, second)); n != 0 {
		t.Errorf("%d \"added\" notices to the new address itself", n)
	}
	added := eventsOf(t, u.ID, account.EventEmailAdded)
	if len(added) != 2 || added[0].Details[account.DetailAddress] != second || added[0].IP != at.IP {
		t.Fatalf("added events %+v, want the registration's and this one with the address and IP", added)
	}

	list, err := a.ListEmails(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || !list[0].Primary || list[0].Address != u.first || !list[0].Verified() ||
		list[1].Primary || list[1].Address != second || list[1].Verified() {
		t.Fatalf("addresses %+v, want the verified primary first and the new one unverified", list)
	}

	if _, err := a.VerifyEmail(ctx, tokenIn(t, verify[0]), at); err != nil {
		t.Fatal(err)
	}
	if e := emailOf(t, u.ID, second); e.VerifiedAt == nil || e.Primary {
		t.Errorf("after verification: %+v, want verified and not primary", e)
	}
	if ev := eventsOf(t, u.ID, account.EventEmailVerified); len(ev) != 2 || ev[0].Details[account.DetailAddress] != second {
		t.Errorf("verified events %+v", ev)
	}

	// A third address is announced to both verified ones.
	third := "third." + u.Username + "@example.com"
	if err := a.AddEmail(ctx, u.ID, third, at); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{u.first, second} {
		if got := mailsTo(t, u.ID, account.MailEmailAdded, to); len(got) == 0 || !strings.Contains(got[len(got)-1].BodyText, third) {
			t.Errorf("no notice of %s to %s", third, to)
		}
	}
}

func TestAddEmailRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &loginClock{t: time.Now()}
	a := newAccounts(t, clk)
	at, _ := browsers()
	u, other := newEmailUser(t, a, at), newEmailUser(t, a, at)

	wantFieldError(t, a.AddEmail(ctx, u.ID, "not an address", at), "email", "like name@example.org")
	wantFieldError(t, a.AddEmail(ctx, u.ID, "", at), "email", "Enter your email address")
	wantFieldError(t, a.AddEmail(ctx, u.ID, strings.ToUpper(u.first), at), "email", "already on your account")
	wantFieldError(t, a.AddEmail(ctx, u.ID, other.first, at), "email", "belongs to another account")

	// An address another account only claimed, unverified, is free.
	pending := "pending." + other.Username + "@example.org"
	if err := a.AddEmail(ctx, other.ID, pending, at); err != nil {
		t.Fatal(err)
	}
	if err := a.AddEmail(ctx, u.ID, pending, at); err != nil {
		t.Fatalf("an address unverified elsewhere: %v", err)
	}
	wantFieldError(t, a.AddEmail(ctx, u.ID, pending, at), "email", "already on your account")

	for i := 3; i <= account.MaxEmailAddresses; i++ {
		if err := a.AddEmail(ctx, u.ID, uniqueName("more")+"@example.org", at); err != nil {
			t.Fatalf("address %d: %v", i, err)
		}
	}
	wantFieldError(t, a.AddEmail(ctx, u.ID, uniqueName("toomany")+"@example.org", at), "email", "at most 5")
	if n, err := testdb.Store(t).Ent.EmailAddress.Query().Where(emailaddress.UserID(u.ID)).Count(ctx); err != nil || n != account.MaxEmailAddresses {
		t.Errorf("%d addresses (%v), want %d", n, err, account.MaxEmailAddresses)
	}
	// Refused attempts recorded and mailed nothing: registration, the
	// pending address and the three more.
	if n := len(eventsOf(t, u.ID, account.EventEmailAdded)); n != account.MaxEmailAddresses {
		t.Errorf("%d added events, want %d", n, account.MaxEmailAddresses)
	}
	if n := len(mailsTo(t, u.ID, account.MailEmailAdded, u.first)); n != account.MaxEmailAddresses-1 {
		t.Errorf("%d notices, want %d", n, account.MaxEmailAddresses-1)
	}
}

func TestAddEmailConcurrentlyKeepsTheLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &loginClock{t: time.Now()}
	a := newAccounts(t, clk)
	at, _ := browsers()
	u := newEmailUser(t, a, at)

	const tries = account.MaxEmailAddresses + 3
	errs := make([]error, tries)
	var wg sync.WaitGroup
	for i := range tries {
		wg.Go(func() { errs[i] = a.AddEmail(ctx, u.ID, uniqueName("race")+"@example.org", at) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		var fe account.FieldErrors
		switch {
		case err == nil:
			ok++
		case !errors.As(err, &fe):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != account.MaxEmailAddresses-1 {
		t.Errorf("%d of %d concurrent additions succeeded, want %d", ok, tries, account.MaxEmailAddresses-1)
	}
}

func TestMakePrimaryOnlyVerifiedAndNotifiesTheOldAddress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &loginClock{t: time.Now()}
	a := newAccounts(t, clk)
	at, other := browsers()
	u, stranger := newEmailUser(t, a, at), newEmailUser(t, a, at)
	second := "second." + u.Username + "@example.net"
	if err := a.AddEmail(ctx, u.ID, second, at); err != nil {
		t.Fatal(err)
	}
	e := emailOf(t, u.ID, second)

	if err := a.MakePrimary(ctx, u.ID, e.ID, other); !errors.Is(err, account.ErrEmailUnverified) {
		t.Fatalf("unverified address made primary: %v", err)
	}
	if err := a.MakePrimary(ctx, stranger.ID, e.ID, other); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("another account's address: %v, want ErrNotFound", err)
	}
	if _, err := a.VerifyEmail(ctx, tokenIn(t, mailsTo(t, u.ID, account.MailEmailVerification, second)[0]), at); err != nil {
		t.Fatal(err)
	}
	if err := a.MakePrimary(ctx, u.ID, e.ID, other); err != nil {
		t.Fatal(err)
	}
	if !emailOf(t, u.ID, second).Primary || emailOf(t, u.ID, u.first).Primary {
		t.Fatal("primary not flipped")
	}
	changed := eventsOf(t, u.ID, account.EventPrimaryEmailChanged)
	if len(changed) != 1 || changed[0].Details[account.DetailAddress] != second ||
		changed[0].Details[account.DetailPreviousAddress] != u.first || changed[0].IP != other.IP {
		t.Fatalf("events %+v, want one with the new and old addresses and the IP", changed)
	}
	notice := mailsTo(t, u.ID, account.MailPrimaryEmailChanged, u.first)
	if len(notice) != 1 || !strings.Contains(notice[0].BodyText, second) || !strings.Contains(notice[0].BodyText, "Chrome 130 on Windows") {
		t.Fatalf("%d notices to the old primary address, want 1 naming the new one and the browser", len(notice))
	}
	if n := len(mailsTo(t, u.ID, account.MailPrimaryEmailChanged, second)); n != 0 {
		t.Errorf("%d notices to the new primary address", n)
	}

	// Security mail now goes to the new primary address.
	if err := a.RequestPasswordReset(ctx, u.Username, at); err != nil {
		t.Fatal(err)
	}
	if n := len(mailsTo(t, u.ID, account.MailPasswordReset, second)); n != 1 {
		t.Errorf("%d reset mails to the new primary, want 1", n)
	}

	// Already primary: nothing happens.
	if err := a.MakePrimary(ctx, u.ID, e.ID, other); err != nil {
		t.Fatal(err)
	}
	if n := len(eventsOf(t, u.ID, account.EventPrimaryEmailChanged)); n != 1 {
		t.Errorf("%d change events after a no-op, want 1", n)
	}
}

func TestRemoveEmail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &loginClock{t: time.Now()}
	a := newAccounts(t, clk)
	at, _ := browsers()
	u, stranger := newEmailUser(t, a, at), newEmailUser(t, a, at)
	second := "second." + u.Username + "@example.net"
	if err := a.AddEmail(ctx, u.ID, second, at); err != nil {
		t.Fatal(err)
	}
	link := tokenIn(t, mailsTo(t, u.ID, account.MailEmailVerification, second)[0])
	primary, e := emailOf(t, u.ID, u.first), emailOf(t, u.ID, second)

	if err := a.RemoveEmail(ctx, u.ID, primary.ID, at); !errors.Is(err, account.ErrEmailPrimary) {
		t.Fatalf("removing the primary address: %v, want ErrEmailPrimary", err)
	}
	if err := a.RemoveEmail(ctx, stranger.ID, e.ID, at); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("another account's address: %v, want ErrNotFound", err)
	}
	if err := a.RemoveEmail(ctx, u.ID, e.ID, at); err != nil {
		t.Fatal(err)
	}
	if list, _ := a.ListEmails(ctx, u.ID); len(list) != 1 || list[0].ID != primary.ID {
		t.Fatalf("addresses after removal: %+v", list)
	}
	if ev := eventsOf(t, u.ID, account.EventEmailRemoved); len(ev) != 1 || ev[0].Details[account.DetailAddress] != second {
		t.Fatalf("removed events %+v", ev)
	}
	if _, err := a.VerifyEmail(ctx, link, at); !errors.Is(err, account.ErrTokenExpired) {
		t.Errorf("the removed address's link: %v, want ErrTokenExpired", err)
	}
	if err := a.RemoveEmail(ctx, u.ID, e.ID, at); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("removing twice: %v, want ErrNotFound", err)
	}
}

func TestResendVerification(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &loginClock{t: time.Now()}
	a := newAccounts(t, clk)
	at, _ := browsers()
	u := newEmailUser(t, a, at)
	second, third := "second."+u.Username+"@example.net", "third."+u.Username+"@example.net"
	for _, addr := range []string{second, third} {
		if err := a.AddEmail(ctx, u.ID, addr, at); err != nil {
			t.Fatal(err)
		}
	}
	e := emailOf(t, u.ID, second)

	if err := a.ResendVerification(ctx, u.ID, emailOf(t, u.ID, u.first).ID, at); !errors.Is(err, account.ErrEmailAlreadyVerified) {
		t.Fatalf("resend to a verified address: %v", err)
	}
	if err := a.ResendVerification(ctx, u.ID+1_000_000, e.ID, at); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("resend for another user: %v, want ErrNotFound", err)
	}
	for i := range ratelimit.VerificationResend.Limit {
		if err := a.ResendVerification(ctx, u.ID, e.ID, at); err != nil {
			t.Fatalf("resend %d: %v", i+1, err)
		}
	}
	var limited *account.RateLimitedError
	if err := a.ResendVerification(ctx, u.ID, e.ID, at); !errors.As(err, &limited) || limited.RetryAfter <= 0 {
		t.Fatalf("resend beyond the limit: %v, want *RateLimitedError", err)
	}
	mails := mailsTo(t, u.ID, account.MailEmailVerification, second)
	if len(mails) != 1+ratelimit.VerificationResend.Limit {
		t.Fatalf("%d verification mails, want %d", len(mails), 1+ratelimit.VerificationResend.Limit)
	}
	// Only the newest link to that address works; the other address's
	// link is untouched.
	if _, err := a.VerifyEmail(ctx, tokenIn(t, mails[0]), at); !errors.Is(err, account.ErrTokenExpired) {
		t.Errorf("an older link: %v, want ErrTokenExpired", err)
	}
	if _, err := a.VerifyEmail(ctx, tokenIn(t, mails[len(mails)-1]), at); err != nil {
		t.Errorf("the newest link: %v", err)
	}
	if _, err := a.VerifyEmail(ctx, tokenIn(t, mailsTo(t, u.ID, account.MailEmailVerification, third)[0]), at); err != nil {
		t.Errorf("the other pending address's link: %v", err)
	}
	// An hour later the limit has passed.
	clk.add(2 * time.Hour)
	if err := a.AddEmail(ctx, u.ID, "fourth."+u.Username+"@example.net", at); err != nil {
		t.Fatal(err)
	}
	if err := a.ResendVerification(ctx, u.ID, emailOf(t, u.ID, "fourth."+u.Username+"@example.net").ID, at); err != nil {
		t.Errorf("resend two hours later: %v", err)
	}
}
