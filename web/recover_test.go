package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/internal/config"
	"github.com/recoverydesk/recoverydesk/internal/ratelimit"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/mailbox"
	"github.com/recoverydesk/recoverydesk/web"
)

// newDeskServices wires the intake and the evidence service to the
// package database on one Outbox, as the program does.
func newDeskServices(t *testing.T, cfg config.Config, opts desk.EvidenceOptions) (*desk.Intake, *desk.Evidence) {
	in, ev, _ := newDeskTriage(t, cfg, opts, desk.TriageOptions{})
	return in, ev
}

// newDeskTriage is newDeskServices plus the staff desk on the same
// outbox and signer.
func newDeskTriage(t *testing.T, cfg config.Config, opts desk.EvidenceOptions, topts desk.TriageOptions) (*desk.Intake, *desk.Evidence, *desk.Triage) {
	t.Helper()
	st := testdb.Store(t)
	ob, err := mailbox.NewOutbox(mailbox.OutboxConfig{Client: st.Ent, From: mail.Address{Name: cfg.SiteName, Address: cfg.SupportAddress}})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := mailbox.NewMessageIDSigner(bytes.Repeat([]byte("m"), 32), "desk.test")
	if err != nil {
		t.Fatal(err)
	}
	in := desk.NewIntake(st, ob, signer, ratelimit.New(st.Pool, nil), cfg.SiteName, cfg.BaseURL, nil)
	ev := desk.NewEvidence(st, ob, signer, cfg.SiteName, cfg.BaseURL, opts)
	return in, ev, desk.NewTriage(st, ob, signer, ev, cfg.SiteName, cfg.BaseURL, topts)
}

// recoverForm is a valid submission for a fresh username and address.
func recoverForm(csrf string) url.Values {
	name := fmt.Sprintf("lost%d_%d", time.Now().UnixNano()%1e9, userSeq.Add(1))
	return url.Values{
		web.CSRFField:      {csrf},
		"username":         {name},
		"contact_email":    {name + "@example.org"},
		"name":             {"Grace Hopper"},
		"has_password":     {"yes"},
		"explanation":      {"My phone with the authenticator app was stolen last week."},
		"claimed_projects": {"cobol-tools"},
		"website":          {""},
	}
}

// submitRecovery files a valid form from c and returns the status path.
func submitRecovery(t *testing.T, c *client) (ref, statusPath string) {
	t.Helper()
	r := c.postForm("/recover", recoverForm(tokenFromPage(t, c, "/recover")))
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	link := mustAttr(t, d.testID("status-link"), "href")
	return text(d.testID("case-reference")), strings.TrimPrefix(link, testBase)
}

func TestRecoverFormShowsErrorsNextToFieldsAndKeepsValues(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)
	form := recoverForm(tokenFromPage(t, c, "/recover"))
	form.Set("contact_email", "not an address")
	form.Set("explanation", "help")
	form.Set("has_device", "yes")

	r := c.postForm("/recover", form)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	d := parse(t, r.body)
	if !d.hasTestID("error-summary") {
		t.Error("no error summary")
	}
	for _, field := range []string{"contact_email", "explanation"} {
		if !strings.Contains(text(d.testID("field-"+field)), text(d.testID("error-"+field))) || text(d.testID("error-"+field)) == "" {
			t.Errorf("no error next to %s", field)
		}
	}
	if d.hasTestID("error-username") {
		t.Error("a valid username is marked as an error")
	}
	f := d.testID("recover-form")
	for _, name := range []string{"username", "contact_email", "claimed_projects"} {
		if got := formValue(t, f, name); got != form.Get(name) {
			t.Errorf("%s kept as %q, want %q", name, got, form.Get(name))
		}
	}
	if got := strings.TrimSpace(formValue(t, f, "explanation")); got != "help" {
		t.Errorf("explanation kept as %q", got)
	}
	for name, want := range map[string]bool{"has_password": true, "has_device": true, "has_email_access": false} {
		_, checked := attr(d.testID("field-"+name).FirstChild, "checked")
		if checked != want {
			t.Errorf("%s checked %v, want %v", name, checked, want)
		}
	}
	honeypot := all(f, hasAttr("name", "website"))
	if len(honeypot) != 1 || mustAttr(t, honeypot[0], "tabindex") != "-1" || mustAttr(t, honeypot[0], "autocomplete") != "off" {
		t.Errorf("honeypot field %v", honeypot)
	}
}

func TestRecoverSuccessShowsReferenceAndLink(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)
	form := recoverForm(tokenFromPage(t, c, "/recover"))
	r := c.postForm("/recover", form)
	wantStatus(t, r, http.StatusOK)
	if got := r.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q", got)
	}
	d := parse(t, r.body)
	ref := text(d.testID("case-reference"))
	if _, ok := desk.NormalizeReference(ref); !ok {
		t.Fatalf("reference %q", ref)
	}
	link := mustAttr(t, d.testID("status-link"), "href")
	if !strings.HasPrefix(link, testBase+"/case/"+ref+"?token=") {
		t.Errorf("status link %q", link)
	}
	page := text(d.testID("recover-sent"))
	for _, want := range []string{"anyone with it can see your case", "We sent an email"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q: %s", want, page)
		}
	}
	ack := testdb.Store(t).Ent.OutboundMail.Query().Where(outboundmail.ToAddress(form.Get("contact_email"))).OnlyX(context.Background())
	if !strings.Contains(ack.Subject, ref) || !strings.Contains(ack.BodyText, link) {
		t.Errorf("acknowledgement %q lacks the reference or link:\n%s", ack.Subject, ack.BodyText)
	}
}

func TestRecoverRefusesPostWithoutCSRF(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)
	tokenFromPage(t, c, "/recover")
	form := recoverForm("")
	form.Del(web.CSRFField)
	wantCSRFRefusal(t, c.postForm("/recover", form))
	if n := testdb.Store(t).Ent.SupportCase.Query().Where(supportcase.RequesterEmailNormalized(form.Get("contact_email"))).CountX(context.Background()); n != 0 {
		t.Errorf("%d cases created without a CSRF token", n)
	}
}

func TestRecoverHoneypotLooksLikeSuccess(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)
	form := recoverForm(tokenFromPage(t, c, "/recover"))
	form.Set("website", "http://cheap-pills.example")
	r := c.postForm("/recover", form)
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	if !d.hasTestID("recover-sent") || d.hasTestID("status-link") || d.hasTestID("case-reference") {
		t.Errorf("honeypot answer page:\n%s", r.body)
	}
	if n := testdb.Store(t).Ent.SupportCase.Query().Where(supportcase.RequesterEmailNormalized(form.Get("contact_email"))).CountX(context.Background()); n != 0 {
		t.Errorf("%d cases created for a bot", n)
	}
}

func TestRecoverRateLimitedPerIP(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app) // one client: one IP address
	for i := range ratelimit.RecoveryPerIP.Limit {
		r := c.postForm("/recover", recoverForm(tokenFromPage(t, c, "/recover")))
		if r.StatusCode != http.StatusOK {
			t.Fatalf("submission %d: status %d", i+1, r.StatusCode)
		}
	}
	r := c.postForm("/recover", recoverForm(tokenFromPage(t, c, "/recover")))
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if !strings.Contains(r.body, "several requests") {
		t.Errorf("429 page does not explain:\n%s", r.body)
	}
}

func TestRecoverPrivateQuestions(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)

	d := parse(t, c.get("/recover").body)
	for name, typ := range map[string]string{"account_created": "month", "last_upload": "month"} {
		in := all(d.testID("field-"+name), isTag("input"))
		if len(in) != 1 || mustAttr(t, in[0], "type") != typ {
			t.Errorf("%s is not an input of type %s", name, typ)
		}
	}
	var methods []string
	for _, o := range all(d.testID("field-two_factor_method"), isTag("option")) {
		v, _ := attr(o, "value")
		methods = append(methods, v+"="+text(o))
	}
	if got := strings.Join(methods, ","); got != "=I don't know,totp=An authenticator app (TOTP),security_key=A security key,passkey=A passkey,recovery_codes=Recovery codes" {
		t.Errorf("two-factor choices %s", got)
	}
	if got := text(d.testID("field-private")); !strings.Contains(got, "Questions only the owner can answer (optional)") || !strings.Contains(got, "never show the records back") {
		t.Errorf("private questions fieldset reads %q", got)
	}

	// A month that is not one comes back next to its field; the other
	// answers are kept.
	form := recoverForm(tokenFromPage(t, c, "/recover"))
	form.Set("account_created", "March 2019")
	form.Set("previous_emails", "old@example.org, older@example.net")
	form.Set("two_factor_method", "passkey")
	form.Set("last_upload", "2024-11")
	r := c.postForm("/recover", form)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	d = parse(t, r.body)
	msg := text(d.testID("error-account_created"))
	if msg == "" || !strings.Contains(text(d.testID("field-account_created")), msg) {
		t.Errorf("no error next to account_created: %q", text(d.testID("field-account_created")))
	}
	in := all(d.testID("field-account_created"), isTag("input"))[0]
	if got := mustAttr(t, in, "aria-describedby"); !strings.Contains(got, "field-account_created-error") {
		t.Errorf("aria-describedby %q", got)
	}
	f := d.testID("recover-form")
	for _, name := range []string{"account_created", "previous_emails", "last_upload"} {
		if got := formValue(t, f, name); got != form.Get(name) {
			t.Errorf("%s kept as %q, want %q", name, got, form.Get(name))
		}
	}
	var selected string
	for _, o := range all(d.testID("field-two_factor_method"), isTag("option")) {
		if _, ok := attr(o, "selected"); ok {
			selected, _ = attr(o, "value")
		}
	}
	if selected != "passkey" {
		t.Errorf("two-factor choice kept as %q", selected)
	}
	for _, field := range []string{"two_factor_method", "previous_emails", "last_upload"} {
		if d.hasTestID("error-" + field) {
			t.Errorf("a valid %s is marked as an error", field)
		}
	}

	// Valid answers are stored with the case.
	form.Set(web.CSRFField, tokenFromPage(t, c, "/recover"))
	form.Set("account_created", "2019-03")
	r = c.postForm("/recover", form)
	wantStatus(t, r, http.StatusOK)
	ref := text(parse(t, r.body).testID("case-reference"))
	got := testdb.Store(t).Ent.SupportCase.Query().Where(supportcase.Reference(ref)).OnlyX(context.Background()).Intake
	if got.AccountCreated != "2019-03" || got.LastUpload != "2024-11" || got.TwoFactorMethod != "passkey" ||
		strings.Join(got.PreviousEmails, ",") != "old@example.org,older@example.net" {
		t.Errorf("stored answers %+v", got)
	}
}
