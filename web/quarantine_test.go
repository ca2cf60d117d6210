package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/mailbox"
	"github.com/recoverydesk/recoverydesk/web"
)

// quarantineSetup boots the app with ingestion behind the quarantine page
// (the shared setup leaves it out).
func quarantineSetup(t *testing.T) (*bundle, *desk.Inbound) {
	t.Helper()
	b := setup(t, setupOpts{noDevMail: true})
	st := testdb.Store(t)
	ob, err := mailbox.NewOutbox(mailbox.OutboxConfig{Client: st.Ent, From: mail.Address{Name: b.cfg.SiteName, Address: b.cfg.SupportAddress}})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := mailbox.NewMessageIDSigner(bytes.Repeat([]byte("m"), 32), "desk.test")
	if err != nil {
		t.Fatal(err)
	}
	in := desk.NewInbound(st, ob, signer, desk.InboundOptions{
		SupportAddresses: []string{b.cfg.SupportAddress}, SiteName: b.cfg.SiteName, BaseURL: b.cfg.BaseURL, Logger: discardLogger(),
	})
	app, err := web.New(web.Deps{
		Config: b.cfg, Logger: discardLogger(), Sessions: b.sessions, Account: b.account, Ready: b.ready.check,
		Quarantine: &web.Quarantine{Inbound: in, DB: st.Ent},
	})
	if err != nil {
		t.Fatal(err)
	}
	b.app = app
	return b, in
}

var quarantineUID atomic.Uint32

// quarantineGarbage has ingestion quarantine a message that does not parse
// and returns its id.
func quarantineGarbage(t *testing.T, in *desk.Inbound, raw []byte) int {
	t.Helper()
	ctx := context.Background()
	uid := quarantineUID.Add(1)
	box := "web-quarantine-" + t.Name()
	if err := in.HandleMessage(ctx, mailbox.Fetched{Mailbox: box, UIDValidity: 7, UID: uid, Raw: raw}); err != nil {
		t.Fatal(err)
	}
	l, err := desk.ListQuarantine(ctx, testdb.Store(t).Ent, "pending")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range l {
		if q.Mailbox == box && q.ImapUID == uid {
			return q.ID
		}
	}
	t.Fatalf("message %d was not quarantined", uid)
	return 0
}

func TestQuarantineNeedsAdmin(t *testing.T) {
	t.Parallel()
	b, _ := quarantineSetup(t)

	r := newClient(t, b.app).get("/admin/quarantine")
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "/login") {
		t.Errorf("signed out: redirect to %q, want the sign-in page", loc)
	}

	u := newSecUser(t, b, secOpts{totp: true})
	r = u.c.get("/admin/quarantine")
	wantStatus(t, r, http.StatusForbidden)
	if got := text(parse(t, r.body).testID("main")); !strings.Contains(got, "This page is for desk administrators.") {
		t.Errorf("403 page says %q", got)
	}
	r = u.c.postForm("/admin/quarantine/1/discard", url.Values{web.CSRFField: {tokenFromPage(t, u.c, "/account/security")}})
	wantStatus(t, r, http.StatusForbidden)
}

func TestQuarantineRetryAndDiscard(t *testing.T) {
	t.Parallel()
	b, in := quarantineSetup(t)
	raw := []byte("this is <b>not</b> an email\x00\xff at all")
	id := quarantineGarbage(t, in, raw)
	other := quarantineGarbage(t, in, []byte("also not an email"))

	admin := newSecUser(t, b, secOpts{totp: true})
	if err := testdb.Store(t).Ent.User.UpdateOneID(admin.ID).SetStaffRole(user.StaffRoleAdmin).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	row := func(d doc, id int) string {
		t.Helper()
		for _, n := range rowsOf(d, "quarantined") {
			if v, _ := attr(n, "id"); v == "q"+strconv.Itoa(id) {
				return text(n)
			}
		}
		return ""
	}
	r := admin.c.get("/admin/quarantine")
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	got := row(d, id)
	if got == "" {
		t.Fatalf("message %d not listed", id)
	}
	for _, want := range []string{"web-quarantine-", "UIDVALIDITY 7", "this is <b>not</b> an email"} {
		if !strings.Contains(got, want) {
			t.Errorf("row %q lacks %q", got, want)
		}
	}
	if strings.Contains(r.body, "<b>not</b>") {
		t.Error("raw message is not escaped")
	}

	token := formValue(t, d.all(isTag("form"))[0], web.CSRFField)
	r = admin.c.postForm("/admin/quarantine/"+strconv.Itoa(id)+"/retry", url.Values{web.CSRFField: {token}})
	wantSeeOther(t, r, "/admin/quarantine")
	if msg := flashAfter(t, admin.c, r); !strings.Contains(msg, "still cannot be stored") || !strings.Contains(msg, "not an email message") {
		t.Errorf("retry flash %q", msg)
	}
	if row(parse(t, admin.c.get("/admin/quarantine").body), id) == "" {
		t.Error("message left the list after a failed retry")
	}

	// A message that parses now (as after a parser fix) is stored.
	fixed, err := testdb.Store(t).Ent.QuarantinedMessage.Create().SetMailbox("web-quarantine-fixed").SetImapUID(quarantineUID.Add(1)).
		SetImapUidvalidity(7).SetError("was unparseable").SetStatus("pending").
		SetRaw([]byte("From: lost@example.org\r\nTo: support@desk.test\r\nSubject: I lost my 2FA device\r\nMessage-ID: <fixed-" + strconv.Itoa(id) + "@example.org>\r\n\r\nPlease help.\r\n")).
		Save(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r = admin.c.postForm("/admin/quarantine/"+strconv.Itoa(fixed.ID)+"/retry", url.Values{web.CSRFField: {token}})
	wantSeeOther(t, r, "/admin/quarantine")
	if msg := flashAfter(t, admin.c, r); !strings.Contains(msg, "was stored") {
		t.Errorf("retry of a parseable message: flash %q", msg)
	}
	if row(parse(t, admin.c.get("/admin/quarantine").body), fixed.ID) != "" {
		t.Error("stored message still listed")
	}

	r = admin.c.postForm("/admin/quarantine/"+strconv.Itoa(id)+"/discard", url.Values{web.CSRFField: {token}})
	wantSeeOther(t, r, "/admin/quarantine")
	if msg := flashAfter(t, admin.c, r); !strings.Contains(msg, "discarded") {
		t.Errorf("discard flash %q", msg)
	}
	d = parse(t, admin.c.get("/admin/quarantine").body)
	if row(d, id) != "" {
		t.Error("discarded message still listed")
	}
	if row(d, other) == "" {
		t.Error("the other message is gone too")
	}
}
