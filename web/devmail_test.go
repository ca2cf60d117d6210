package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"

	"github.com/recoverydesk/recoverydesk/web"
)

// htmlMail is what the system might send: a text part with a secret link
// and an HTML part carrying everything a sanitiser must remove.
const htmlMail = "From: Recovery Desk <support@desk.test>\r\n" +
	"To: Ada Lovelace <ada@example.org>\r\n" +
	"Subject: Confirm your login\r\n" +
	"Message-ID: <m1.abc@desk.test>\r\n" +
	"Date: Mon, 02 Jun 2025 10:00:00 +0000\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=XYZ\r\n" +
	"\r\n" +
	"--XYZ\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"Confirm here: https://desk.test/confirm?token=abc&x=1. Then <b>reply</b>.\r\n" +
	"Not a link: javascript:alert(1)\r\n" +
	"--XYZ\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n" +
	"\r\n" +
	"<html><body><p onclick=\"steal()\">Hello <b>Ada</b></p>" +
	"<script>alert('xss')</script>" +
	"<a href=\"https://desk.test/confirm?token=abc\">Confirm</a> " +
	"<a href=\"javascript:alert(2)\">bad</a>" +
	"<img src=x onerror=\"alert(3)\"><style>body{display:none}</style>" +
	"</body></html>\r\n" +
	"--XYZ--\r\n"

// sendToSink delivers a mail to the sink over a real SMTP conversation.
func sendToSink(t *testing.T, b *bundle, raw string) {
	t.Helper()
	c, err := smtp.Dial(b.sink.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendMail("support@desk.test", []string{"ada@example.org"}, strings.NewReader(raw)); err != nil {
		t.Fatalf("SMTP send: %v", err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
}

func TestDevMailListAndSanitisedDetail(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	c := newClient(t, b.app)
	sendToSink(t, b, strings.Replace(htmlMail, "Confirm your login", "Older mail", 1))
	sendToSink(t, b, htmlMail)

	r := c.get("/dev/mail")
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	wantLayout(t, d)
	rows := d.all(hasAttr("data-testid", "devmail-row"))
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	if got := text(rows[0]); !strings.Contains(got, "Confirm your login") || !strings.Contains(got, "ada@example.org") {
		t.Errorf("first row %q, want the newest mail", got)
	}
	if got := text(rows[1]); !strings.Contains(got, "Older mail") {
		t.Errorf("second row %q, want the older mail", got)
	}
	link := all(rows[0], hasAttr("data-testid", "devmail-link"))[0]
	href, _ := attr(link, "href")

	r = c.get(href)
	wantStatus(t, r, http.StatusOK)
	d = parse(t, r.body)
	wantLayout(t, d)
	if got := text(d.testID("devmail-subject")); got != "Confirm your login" {
		t.Errorf("subject %q", got)
	}

	// The HTML part: markup kept, everything active gone.
	htmlPart := d.testID("devmail-html")
	for _, s := range d.all(isTag("script")) {
		if _, ok := attr(s, "src"); !ok {
			t.Error("an inline <script> from the mail reached the page")
		}
	}
	if len(all(htmlPart, isTag("b"))) != 1 {
		t.Error("harmless markup (<b>) was not kept")
	}
	for _, bad := range []string{"alert(", "onclick", "onerror", "javascript:", "display:none", "steal()"} {
		for n := range htmlPart.Descendants() {
			for _, a := range n.Attr {
				if strings.Contains(a.Val, bad) || strings.Contains(a.Key, bad) {
					t.Errorf("sanitised HTML keeps %q in %s=%q", bad, a.Key, a.Val)
				}
			}
			if strings.Contains(n.Data, bad) {
				t.Errorf("sanitised HTML keeps %q", bad)
			}
		}
	}
	links := all(htmlPart, isTag("a"))
	var confirm bool
	for _, a := range links {
		href, _ := attr(a, "href")
		if href != "https://desk.test/confirm?token=abc" {
			continue
		}
		confirm = true
		target, _ := attr(a, "target")
		rel, _ := attr(a, "rel")
		if target != "_blank" || !strings.Contains(rel, "noopener") {
			t.Errorf("link target=%q rel=%q, want _blank and noopener", target, rel)
		}
	}
	if !confirm {
		t.Error("the HTML part's https link was removed")
	}

	// The text part: the URL is a link, the rest is escaped text.
	textPart := d.testID("devmail-text")
	textLinks := all(textPart, isTag("a"))
	if len(textLinks) != 1 {
		t.Fatalf("%d links in the text part, want 1", len(textLinks))
	}
	if h, _ := attr(textLinks[0], "href"); h != "https://desk.test/confirm?token=abc&x=1" {
		t.Errorf("text link href %q", h)
	}
	if len(all(textPart, isTag("b"))) != 0 {
		t.Error("markup in the text part was not escaped")
	}
	if !strings.Contains(rawText(textPart), "Then <b>reply</b>.\r\nNot a link: javascript:alert(1)") &&
		!strings.Contains(rawText(textPart), "Then <b>reply</b>.\nNot a link: javascript:alert(1)") {
		t.Error("plain text lost")
	}
	if got := text(d.testID("devmail-headers")); !strings.Contains(got, "Message-Id") && !strings.Contains(got, "Message-ID") {
		t.Errorf("headers table lacks Message-ID: %q", got)
	}

	// Reply as the recipient: the form comes prefilled and threaded.
	reply, _ := attr(d.testID("devmail-reply"), "href")
	r = c.get(reply)
	wantStatus(t, r, http.StatusOK)
	form := parse(t, r.body).testID("devmail-form")
	for name, want := range map[string]string{
		"from":        "ada@example.org",
		"from_name":   "Ada Lovelace",
		"to":          "support@desk.test",
		"subject":     "Re: Confirm your login",
		"in_reply_to": "m1.abc@desk.test",
		"references":  "m1.abc@desk.test",
	} {
		if got := formValue(t, form, name); got != want {
			t.Errorf("reply field %s = %q, want %q", name, got, want)
		}
	}
	if body := formValue(t, form, "body"); !strings.HasPrefix(body, "\n\n") || !strings.Contains(body, "> Confirm here:") {
		t.Errorf("reply body %q, want two blank lines above the quoted original", body)
	}
}

func TestDevMailUnknownIDIs404(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	c := newClient(t, b.app)
	wantStatus(t, c.get("/dev/mail/nosuchid"), http.StatusNotFound)
	wantStatus(t, c.get("/dev/mail?reply=nosuchid"), http.StatusNotFound)
}

func TestDevMailWriteDeliversOverIMAP(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	c := newClient(t, b.app)
	tok := tokenFromPage(t, c, "/dev/mail")

	// The form's To defaults to the support address.
	form := parse(t, c.get("/dev/mail").body).testID("devmail-form")
	if got := formValue(t, form, "to"); got != testSupport {
		t.Errorf("To defaults to %q, want %q", got, testSupport)
	}

	r := c.postForm("/dev/mail", url.Values{
		web.CSRFField: {tok},
		"from_name":   {"Zoë Müller"},
		"from":        {"zoe@example.org"},
		"to":          {testSupport},
		"subject":     {"Lost my phone, RD test"},
		"body":        {"I lost my phone and my recovery codes.\n"},
	})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/dev/mail" {
		t.Fatalf("redirect to %q, want /dev/mail", loc)
	}

	// The flash shows once, in the status region.
	d := parse(t, c.get("/dev/mail").body)
	if got := text(d.testID("flashes")); got != "Delivered to the support mailbox" {
		t.Errorf("flash region %q", got)
	}
	if parse(t, c.get("/dev/mail").body).hasTestID("flash") {
		t.Error("the flash showed twice")
	}

	// Read it back the way the desk will: over IMAP.
	ic, err := imapclient.DialInsecure(b.mailbox.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	if err := ic.Login(b.mailbox.Username(), b.mailbox.Password()).Wait(); err != nil {
		t.Fatalf("IMAP LOGIN: %v", err)
	}
	sel, err := ic.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatalf("IMAP SELECT: %v", err)
	}
	if sel.NumMessages != 1 {
		t.Fatalf("INBOX has %d messages, want 1", sel.NumMessages)
	}
	msgs, err := ic.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Envelope: true}).Collect()
	if err != nil {
		t.Fatalf("IMAP FETCH: %v", err)
	}
	env := msgs[0].Envelope
	if env.Subject != "Lost my phone, RD test" {
		t.Errorf("subject over IMAP %q", env.Subject)
	}
	if len(env.From) != 1 || env.From[0].Addr() != "zoe@example.org" || env.From[0].Name != "Zoë Müller" {
		t.Errorf("from over IMAP %+v", env.From)
	}
}

func TestDevMailWriteKeepsInputOnError(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	c := newClient(t, b.app)
	tok := tokenFromPage(t, c, "/dev/mail")
	body := "Line one <b>not bold</b>\nLine two"

	r := c.postForm("/dev/mail", url.Values{
		web.CSRFField: {tok},
		"from_name":   {"Zoë"},
		"from":        {"zoe@example.org"},
		"to":          {testSupport},
		"subject":     {"  "},
		"body":        {body},
	})
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	wantLayout(t, d)
	field := d.testID("field-subject")
	errEl := all(field, hasAttr("data-testid", "error-subject"))
	if len(errEl) != 1 {
		t.Fatal("no error next to the subject field")
	}
	errID, _ := attr(errEl[0], "id")
	input := all(field, hasAttr("name", "subject"))[0]
	if desc, _ := attr(input, "aria-describedby"); !strings.Contains(desc, errID) {
		t.Errorf("subject aria-describedby=%q does not point at the error %q", desc, errID)
	}
	if inv, _ := attr(input, "aria-invalid"); inv != "true" {
		t.Error("subject not marked aria-invalid")
	}
	summary := all(d.testID("error-summary"), isTag("a"))
	if len(summary) != 1 {
		t.Fatalf("error summary has %d links, want 1", len(summary))
	}
	if h, _ := attr(summary[0], "href"); h != "#"+mustAttr(t, input, "id") {
		t.Errorf("error summary links to %q, want the subject field", h)
	}
	form := d.testID("devmail-form")
	if got := formValue(t, form, "body"); got != body {
		t.Errorf("body lost: %q", got)
	}
	if got := formValue(t, form, "from_name"); got != "Zoë" {
		t.Errorf("from_name lost: %q", got)
	}
	if d.hasTestID("error-body") || d.hasTestID("error-from") {
		t.Error("errors shown on fields that were fine")
	}

	// A malformed address is refused by devmail and shown on its field.
	r = c.postForm("/dev/mail", url.Values{
		web.CSRFField: {tok},
		"from":        {"not an address"},
		"to":          {testSupport},
		"subject":     {"Hello"},
		"body":        {body},
	})
	wantStatus(t, r, http.StatusOK)
	d = parse(t, r.body)
	if got := text(d.testID("error-from")); !strings.Contains(got, "not an address") {
		t.Errorf("from error %q", got)
	}
	if got := formValue(t, d.testID("devmail-form"), "subject"); got != "Hello" {
		t.Errorf("subject lost: %q", got)
	}
	if sel := imapCount(t, b); sel != 0 {
		t.Errorf("%d messages delivered despite errors", sel)
	}
}

func imapCount(t *testing.T, b *bundle) uint32 {
	t.Helper()
	ic, err := imapclient.DialInsecure(b.mailbox.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	if err := ic.Login(b.mailbox.Username(), b.mailbox.Password()).Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := ic.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	return sel.NumMessages
}

func TestDevMailAbsentOutsideDev(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true, extra: echoRoute})
	c := newClient(t, b.app)
	for _, path := range []string{"/dev/mail", "/dev/mail/abc"} {
		r := c.get(path)
		wantStatus(t, r, http.StatusNotFound)
		parse(t, r.body).testID("error-404")
	}
	// A valid POST finds no handler either. The signed-in header's logout
	// form provides the token.
	c.setCookie(web.SessionCookie, b.signIn(t, "Ada"))
	tok := tokenFromPage(t, c, "/")
	r := c.postForm("/dev/mail", url.Values{web.CSRFField: {tok}, "subject": {"x"}})
	wantStatus(t, r, http.StatusNotFound)
}
