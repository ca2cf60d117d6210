package web_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/quarantinedmessage"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/hostilemail"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// TestHostileQuarantinePage: what ingestion cannot store is shown to
// admins on the quarantine page, raw. Hostile raw there (markup before any
// header, the samples a parser refuses) must be listed as inert text.
func TestHostileQuarantinePage(t *testing.T) {
	t.Parallel()
	b, in := quarantineSetup(t)
	payload := hostilemail.Payload("quarantine")
	notMail := "<script>" + payload + "</script><img src=x onerror=\"" + payload + "\">\r\n<svg onload=\"" + payload + "\">"
	ids := map[int]string{quarantineGarbage(t, in, []byte(notMail)): "<script>" + payload}
	for _, s := range hostilemail.Corpus() {
		if !s.Heavy {
			continue
		}
		// Only samples the parser refuses are quarantined; the others are
		// covered by the desk's and the browser's hostile tests.
		if id, ok := quarantineIfRefused(t, in, s.Raw); ok {
			ids[id] = strings.SplitN(string(s.Raw), "\r\n", 2)[0]
		}
	}

	// The garbage and at least one corpus sample: without one, this test
	// no longer shows the corpus on the quarantine page.
	if len(ids) < 2 {
		t.Fatalf("%d hostile messages in quarantine, want the garbage and at least one refused corpus sample", len(ids))
	}
	admin := newSecUser(t, b, secOpts{totp: true})
	if err := testdb.Store(t).Ent.User.UpdateOneID(admin.ID).SetStaffRole(user.StaffRoleAdmin).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := admin.c.get("/admin/quarantine")
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	for id, want := range ids {
		var row string
		for _, n := range rowsOf(d, "quarantined") {
			if v, _ := attr(n, "id"); v == "q"+strconv.Itoa(id) {
				row = text(n)
			}
		}
		if !strings.Contains(row, want) {
			t.Errorf("quarantined message %d: row does not show %q as text; it reads %.300q", id, want, row)
		}
	}
	for _, n := range d.all(func(n *html.Node) bool { return n.Type == html.ElementNode }) {
		switch n.Data {
		case "script":
			if src, _ := attr(n, "src"); !strings.HasPrefix(src, "/static/") {
				t.Errorf("script in the quarantine page: %.200q", rawText(n))
			}
		case "img", "svg", "iframe", "object", "embed":
			t.Errorf("<%s> element in the quarantine page", n.Data)
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(strings.ToLower(a.Key), "on") {
				t.Errorf("<%s %s=%q> in the quarantine page", n.Data, a.Key, a.Val)
			}
		}
	}
}

// quarantineIfRefused hands raw to ingestion and returns its quarantine
// id when ingestion quarantined it.
func quarantineIfRefused(t *testing.T, in *desk.Inbound, raw []byte) (int, bool) {
	t.Helper()
	ctx := context.Background()
	uid := quarantineUID.Add(1)
	box := "web-quarantine-hostile"
	if err := in.HandleMessage(ctx, mailbox.Fetched{Mailbox: box, UIDValidity: 7, UID: uid, Raw: raw}); err != nil {
		t.Fatal(err)
	}
	q, err := testdb.Store(t).Ent.QuarantinedMessage.Query().
		Where(quarantinedmessage.Mailbox(box), quarantinedmessage.ImapUID(uid)).Only(ctx)
	if ent.IsNotFound(err) {
		return 0, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return q.ID, true
}
