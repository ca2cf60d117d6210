package web_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/web"
)

// postMultipart sends fields and files (name → content) as the browser
// sends a form with enctype="multipart/form-data".
func (c *client) postMultipart(path string, fields url.Values, files map[string][]byte) response {
	c.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			if err := w.WriteField(k, v); err != nil {
				c.t.Fatal(err)
			}
		}
	}
	for name, data := range files {
		fw, err := w.CreateFormFile("files", name)
		if err != nil {
			c.t.Fatal(err)
		}
		if _, err := fw.Write(data); err != nil {
			c.t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		c.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, testBase+path, &body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

func TestCaseStatusAddInformationWithFiles(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)
	_, path := submitRecovery(t, c)
	u, _ := url.Parse(path)
	token := u.Query().Get("token")

	page := parse(t, c.get(path).body)
	form := page.testID("case-add-form")
	if got := mustAttr(t, form, "enctype"); got != "multipart/form-data" {
		t.Errorf("form enctype %q", got)
	}
	if !strings.Contains(text(page.testID("field-files")), "Up to 5 files") {
		t.Errorf("file field hint: %s", text(page.testID("field-files")))
	}
	csrf := formValue(t, form, web.CSRFField)
	fields := url.Values{web.CSRFField: {csrf}, "token": {token}, "text": {"Here is my old invoice."}}

	// Too large: refused next to the file field, the text kept.
	r := c.postMultipart(u.Path, fields, map[string][]byte{"huge.bin": make([]byte, desk.MaxUploadSize+1)})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	d := parse(t, r.body)
	if got := text(d.testID("error-files")); !strings.Contains(got, "huge.bin") || !strings.Contains(text(d.testID("field-files")), got) {
		t.Errorf("error next to files: %q", got)
	}
	if !strings.Contains(text(d.testID("field-text")), "Here is my old invoice.") {
		t.Error("text lost after the file error")
	}
	if n := len(d.all(hasAttr("data-testid", "case-attachment"))); n != 0 {
		t.Errorf("%d attachments listed after a refused upload", n)
	}

	// A file that fits: stored and listed by name and size.
	r = c.postMultipart(u.Path, fields, map[string][]byte{"invoice 2019.pdf": []byte("%PDF-1.4 pretend invoice")})
	wantLocation(t, r, path)
	d = parse(t, c.get(path).body)
	msgs := d.all(hasAttr("data-testid", "case-message"))
	if len(msgs) != 2 || !strings.Contains(text(msgs[1]), "Here is my old invoice.") {
		t.Fatalf("%d messages after adding", len(msgs))
	}
	files := d.all(hasAttr("data-testid", "case-attachment"))
	if len(files) != 1 || !strings.Contains(text(files[0]), "invoice 2019.pdf") || !strings.Contains(text(files[0]), "24 bytes") {
		t.Fatalf("attachments listed: %d", len(files))
	}
}

func TestLargeBodiesStayRefusedElsewhere(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)
	csrf := tokenFromPage(t, c, "/recover")
	form := recoverForm(csrf)
	form.Set("explanation", strings.Repeat("x", 5<<20))
	r := c.postForm("/recover", form)
	wantStatus(t, r, http.StatusRequestEntityTooLarge)
}
