package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/emailaddress"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/internal/ratelimit"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/web"
)

// primaryOf is the address newSecUser gave u.
func primaryOf(u *secUser) string { return u.Username + "@example.org" }

// emailRow adds an address to u's account directly.
func emailRow(t *testing.T, u *secUser, address string, verified bool) *ent.EmailAddress {
	t.Helper()
	c := testdb.Store(t).Ent.EmailAddress.Create().SetUserID(u.ID).SetAddress(address).SetAddressNormalized(account.NormalizeEmail(address))
	if verified {
		c.SetVerifiedAt(time.Now())
	}
	e, err := c.Save(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// emailByAddress reads u's address row, nil if there is none.
func emailByAddress(t *testing.T, u *secUser, address string) *ent.EmailAddress {
	t.Helper()
	e, err := testdb.Store(t).Ent.EmailAddress.Query().
		Where(emailaddress.UserID(u.ID), emailaddress.AddressNormalized(account.NormalizeEmail(address))).
		Only(context.Background())
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// mailCount counts u's mails of purpose to address.
func mailCount(t *testing.T, u *secUser, purpose, address string) int {
	t.Helper()
	n, err := testdb.Store(t).Ent.OutboundMail.Query().
		Where(outboundmail.UserID(u.ID), outboundmail.Purpose(purpose), outboundmail.ToAddress(address)).
		Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func emailAction(id int, action string) string {
	return "/account/emails/" + strconv.Itoa(id) + "/" + action
}

// formFor is the form in n posting to action, or nil.
func formFor(n *html.Node, action string) *html.Node {
	for _, f := range all(n, isTag("form")) {
		if a, _ := attr(f, "action"); a == action {
			return f
		}
	}
	return nil
}

func TestEmailsListedOnSecurityPage(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	u := newSecUser(t, b, secOpts{totp: true})
	pending := emailRow(t, u, "pending."+u.Username+"@example.net", false)
	spare := emailRow(t, u, "spare."+u.Username+"@example.net", true)
	primary := emailByAddress(t, u, primaryOf(u))

	d := parse(t, u.c.get("/account/security").body)
	rows := rowsOf(d, "email")
	if len(rows) != 3 {
		t.Fatalf("%d addresses listed, want 3", len(rows))
	}
	if id, _ := attr(rows[0], "data-id"); id != strconv.Itoa(primary.ID) {
		t.Errorf("first row is address %s, want the primary %d", id, primary.ID)
	}
	p := rowWithID(t, d, "email", primary.ID)
	if !strings.Contains(text(p), primaryOf(u)) || !hasTestIDIn(p, "email-primary") || text(testIDIn(p, "email-status")) != "Verified" {
		t.Errorf("primary row %q lacks the address, the primary mark or Verified", text(p))
	}
	if formFor(p, emailAction(primary.ID, "remove")) != nil || formFor(p, emailAction(primary.ID, "primary")) != nil {
		t.Error("the primary address offers remove or make-primary")
	}
	pr := rowWithID(t, d, "email", pending.ID)
	if text(testIDIn(pr, "email-status")) != "Unverified" || formFor(pr, emailAction(pending.ID, "resend")) == nil {
		t.Errorf("unverified row %q lacks its status or the resend button", text(pr))
	}
	if formFor(pr, emailAction(pending.ID, "primary")) != nil || formFor(pr, emailAction(pending.ID, "remove")) == nil {
		t.Error("unverified address: want remove and no make-primary")
	}
	sr := rowWithID(t, d, "email", spare.ID)
	if hasTestIDIn(sr, "email-primary") || formFor(sr, emailAction(spare.ID, "primary")) == nil ||
		formFor(sr, emailAction(spare.ID, "remove")) == nil || formFor(sr, emailAction(spare.ID, "resend")) != nil {
		t.Error("verified spare address: want make-primary and remove, no resend, no primary mark")
	}
	for _, f := range all(d.testID("security-emails"), isTag("form")) {
		if formValue(t, f, web.CSRFField) == "" {
			t.Errorf("form %s has no CSRF field", mustAttr(t, f, "action"))
		}
	}
	add := d.testID("email-add-form")
	if add == nil || mustAttr(t, add, "action") != "/account/emails" {
		t.Fatal("no add form")
	}
	if in := all(add, hasAttr("name", "email")); len(in) != 1 || mustAttr(t, in[0], "type") != "email" {
		t.Error("add form lacks its email input")
	}

	// Without 2FA the list and resending remain; changes wait for 2FA.
	plain := newSecUser(t, b, secOpts{})
	pp := emailRow(t, plain, "pending."+plain.Username+"@example.net", false)
	d = parse(t, plain.c.get("/account/security").body)
	if !d.hasTestID("email-needs-2fa") || d.hasTestID("email-add-form") {
		t.Error("without 2FA: want the 2FA hint and no add form")
	}
	if row := rowWithID(t, d, "email", pp.ID); row == nil || formFor(row, emailAction(pp.ID, "resend")) == nil || formFor(row, emailAction(pp.ID, "remove")) != nil {
		t.Error("without 2FA: want resend and no remove")
	}
}

func hasTestIDIn(n *html.Node, id string) bool { return testIDIn(n, id) != nil }

func testIDIn(n *html.Node, id string) *html.Node {
	if found := all(n, hasAttr("data-testid", id)); len(found) > 0 {
		return found[0]
	}
	return nil
}

func TestEmailChangesNeedReauth(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	u := newSecUser(t, b, secOpts{totp: true})
	spare := emailRow(t, u, "spare."+u.Username+"@example.net", true)
	ageSession(t, u.sessionID, 20*time.Minute)

	d := parse(t, u.c.get("/account/security").body)
	if d.hasTestID("email-add-form") || !d.hasTestID("email-add-reauth") {
		t.Error("an old session is shown the add form instead of the password confirmation link")
	}
	newAddr := "new." + u.Username + "@example.net"
	for path, form := range map[string]url.Values{
		"/account/emails":                {"email": {newAddr}},
		emailAction(spare.ID, "primary"): nil,
		emailAction(spare.ID, "remove"):  nil,
	} {
		r := u.post(t, path, form)
		wantSeeOther(t, r, "/account/reauth?next=/account/security")
		if msg := flashAfter(t, u.c, r); !strings.Contains(msg, "Confirm your password") {
			t.Errorf("%s: flash %q", path, msg)
		}
	}
	if emailByAddress(t, u, newAddr) != nil {
		t.Error("address added without re-authentication")
	}
	if e := emailByAddress(t, u, spare.Address); e == nil || e.Primary {
		t.Error("spare address removed or made primary without re-authentication")
	}

	r := u.c.postForm("/account/reauth", url.Values{web.CSRFField: {tokenFromPage(t, u.c, "/account/reauth")}, "next": {"/account/security"}, "password": {u.password}})
	wantSeeOther(t, r, "/account/security")
	r = u.post(t, "/account/emails", url.Values{"email": {newAddr}})
	wantSeeOther(t, r, "/account/security")
	if emailByAddress(t, u, newAddr) == nil {
		t.Error("address not added after re-authentication")
	}
}

func TestEmailAddVerifyMakePrimaryRemove(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	u := newSecUser(t, b, secOpts{totp: true})
	old := primaryOf(u)
	newAddr := "new." + u.Username + "@example.net"

	r := u.post(t, "/account/emails", url.Values{"email": {" " + newAddr + " "}})
	wantSeeOther(t, r, "/account/security")
	if msg := flashAfter(t, u.c, r); !strings.Contains(msg, "verification link to "+newAddr) {
		t.Errorf("flash %q does not name the address", msg)
	}
	added := emailByAddress(t, u, newAddr)
	if added == nil || added.VerifiedAt != nil || added.Primary {
		t.Fatalf("added address %+v, want unverified and not primary", added)
	}
	if mailCount(t, u, account.MailEmailVerification, newAddr) != 1 || mailCount(t, u, account.MailEmailAdded, old) != 1 {
		t.Fatal("want a verification link to the new address and a notice to the old one")
	}

	// Not verified yet: make-primary is refused.
	r = u.post(t, emailAction(added.ID, "primary"), nil)
	wantSeeOther(t, r, "/account/security")
	if msg := flashAfter(t, u.c, r); !strings.Contains(msg, "Verify that address") {
		t.Errorf("make-primary of an unverified address: flash %q", msg)
	}

	// The link mailed to the new address verifies it.
	link := signupMailToken(t, u.ID, account.MailEmailVerification)
	form := parse(t, u.c.get("/verify-email?token="+link).body).testID("verify-email-form")
	r = u.c.postForm("/verify-email", url.Values{web.CSRFField: {formValue(t, form, web.CSRFField)}, "token": {formValue(t, form, "token")}})
	wantSeeOther(t, r, "/")
	if e := emailByAddress(t, u, newAddr); e.VerifiedAt == nil {
		t.Fatal("the added address is not verified by its link")
	}

	r = u.post(t, emailAction(added.ID, "primary"), nil)
	wantSeeOther(t, r, "/account/security")
	if msg := flashAfter(t, u.c, r); !strings.Contains(msg, "primary email address was changed") {
		t.Errorf("make-primary flash %q", msg)
	}
	if !emailByAddress(t, u, newAddr).Primary || emailByAddress(t, u, old).Primary {
		t.Fatal("primary not moved to the new address")
	}
	if mailCount(t, u, account.MailPrimaryEmailChanged, old) != 1 {
		t.Error("the old primary address was not told")
	}
	d := parse(t, u.c.get("/account/security").body)
	if events := text(d.testID("events")); !strings.Contains(events, account.EventPrimaryEmailChanged.Describe()) {
		t.Errorf("events %q lack the primary change", events)
	}

	// The old primary address is now removable; the new one is not.
	oldRow := emailByAddress(t, u, old)
	r = u.post(t, emailAction(added.ID, "remove"), nil)
	wantSeeOther(t, r, "/account/security")
	if msg := flashAfter(t, u.c, r); !strings.Contains(msg, "primary address cannot be removed") {
		t.Errorf("removing the primary: flash %q", msg)
	}
	r = u.post(t, emailAction(oldRow.ID, "remove"), nil)
	wantSeeOther(t, r, "/account/security")
	if msg := flashAfter(t, u.c, r); !strings.Contains(msg, "removed") {
		t.Errorf("remove flash %q", msg)
	}
	if emailByAddress(t, u, old) != nil {
		t.Fatal("old address still on the account")
	}
	d = parse(t, u.c.get("/account/security").body)
	if rows := rowsOf(d, "email"); len(rows) != 1 || !strings.Contains(text(rows[0]), newAddr) {
		t.Errorf("addresses listed after removal: %d", len(rows))
	}
	if events := text(d.testID("events")); !strings.Contains(events, account.EventEmailRemoved.Describe()) {
		t.Errorf("events %q lack the removal", events)
	}

	// Another account's address id: nothing happens to it.
	other := newSecUser(t, b, secOpts{totp: true})
	theirs := emailRow(t, other, "theirs."+other.Username+"@example.net", true)
	r = u.post(t, emailAction(theirs.ID, "remove"), nil)
	wantSeeOther(t, r, "/account/security")
	if msg := flashAfter(t, u.c, r); !strings.Contains(msg, "already removed") {
		t.Errorf("removing another account's address: flash %q", msg)
	}
	if emailByAddress(t, other, theirs.Address) == nil {
		t.Fatal("another account's address was removed")
	}
}

func TestEmailAddRefusalsAreFlashed(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	u := newSecUser(t, b, secOpts{totp: true})
	other := newSecUser(t, b, secOpts{})
	for typed, says := range map[string]string{
		"not an address":              "like name@example.org",
		strings.ToUpper(primaryOf(u)): "already on your account",
		primaryOf(other):              "belongs to another account",
	} {
		r := u.post(t, "/account/emails", url.Values{"email": {typed}})
		wantSeeOther(t, r, "/account/security")
		next := u.c.get("/account/security")
		d := parse(t, next.body)
		if msg := text(d.testID("flash")); !strings.Contains(msg, says) {
			t.Errorf("%q: flash %q, want %q", typed, msg, says)
		}
		if cls, _ := attr(d.testID("flash"), "class"); !strings.Contains(cls, "flash--error") {
			t.Errorf("%q: flash class %q, want an error", typed, cls)
		}
	}
	if n := len(rowsOf(parse(t, u.c.get("/account/security").body), "email")); n != 1 {
		t.Errorf("%d addresses after refusals, want 1", n)
	}
}

func TestEmailResendVerification(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	// Resending needs neither 2FA nor a fresh sign-in.
	u := newSecUser(t, b, secOpts{})
	ageSession(t, u.sessionID, 20*time.Minute)
	pending := emailRow(t, u, "pending."+u.Username+"@example.net", false)

	for i := range ratelimit.VerificationResend.Limit {
		r := u.post(t, emailAction(pending.ID, "resend"), nil)
		wantSeeOther(t, r, "/account/security")
		if msg := flashAfter(t, u.c, r); !strings.Contains(msg, "new verification link") {
			t.Fatalf("resend %d: flash %q", i+1, msg)
		}
	}
	if n := mailCount(t, u, account.MailEmailVerification, pending.Address); n != ratelimit.VerificationResend.Limit {
		t.Fatalf("%d verification mails, want %d", n, ratelimit.VerificationResend.Limit)
	}
	r := u.post(t, emailAction(pending.ID, "resend"), nil)
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}

	// The verified primary address has nothing to resend.
	other := newSecUser(t, b, secOpts{})
	r = other.post(t, emailAction(emailByAddress(t, other, primaryOf(other)).ID, "resend"), nil)
	wantSeeOther(t, r, "/account/security")
	if msg := flashAfter(t, other.c, r); !strings.Contains(msg, "already verified") {
		t.Errorf("resend to a verified address: flash %q", msg)
	}
}
