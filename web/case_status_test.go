package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/recoverydesk/recoverydesk/web"
)

func TestCaseStatusPageShowsMessages(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	ref, path := submitRecovery(t, newClient(t, b.app))

	// A stranger with the link sees the page; no login is needed.
	r := newClient(t, b.app).get(path)
	wantStatus(t, r, http.StatusOK)
	if got := r.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q", got)
	}
	if got := r.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy %q", got)
	}
	d := parse(t, r.body)
	wantLayout(t, d)
	if got := text(d.testID("case-status")); !strings.Contains(got, ref) || !strings.Contains(got, "Received") {
		t.Errorf("status section: %s", got)
	}
	if d.testID("case-next") == nil || text(d.testID("case-next")) == "" {
		t.Error("no what-happens-next text")
	}
	msgs := d.all(hasAttr("data-testid", "case-message"))
	if len(msgs) != 1 || !strings.Contains(text(msgs[0]), "authenticator app was stolen") || !strings.Contains(text(msgs[0]), "You") {
		t.Errorf("messages: %d", len(msgs))
	}
}

func TestCaseStatusAddInformation(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)
	_, path := submitRecovery(t, c)
	u, _ := url.Parse(path)
	token := u.Query().Get("token")

	page := parse(t, c.get(path).body)
	form := page.testID("case-add-form")
	if got := formValue(t, form, "token"); got != token {
		t.Fatalf("hidden token %q, want %q", got, token)
	}
	csrf := formValue(t, form, web.CSRFField)

	r := c.postForm(u.Path, url.Values{web.CSRFField: {csrf}, "token": {token}, "text": {"  "}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if text(parse(t, r.body).testID("error-text")) == "" {
		t.Error("no error next to the empty text")
	}

	r = c.postForm(u.Path, url.Values{web.CSRFField: {csrf}, "token": {token}, "text": {"I also maintain cobol-lint."}})
	wantLocation(t, r, path)
	d := parse(t, c.get(path).body)
	msgs := d.all(hasAttr("data-testid", "case-message"))
	if len(msgs) != 2 || !strings.Contains(text(msgs[1]), "I also maintain cobol-lint.") {
		t.Fatalf("%d messages after adding", len(msgs))
	}
	if !strings.Contains(text(d.root), "We added this to your case") {
		t.Error("no confirmation shown")
	}
}

func TestCaseStatusWrongLinkIs404(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)
	ref, path := submitRecovery(t, c)
	u, _ := url.Parse(path)
	token := u.Query().Get("token")
	csrf := tokenFromPage(t, c, "/recover")

	for _, p := range []string{
		"/case/" + ref,
		"/case/" + ref + "?token=" + token[:len(token)-2] + "xx",
		"/case/RD-222222?token=" + token,
	} {
		wantStatus(t, c.get(p), http.StatusNotFound)
	}
	r := c.postForm("/case/"+ref, url.Values{web.CSRFField: {csrf}, "token": {"wrong"}, "text": {"let me in"}})
	wantStatus(t, r, http.StatusNotFound)
}
