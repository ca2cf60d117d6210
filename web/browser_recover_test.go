package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserRecoverFormMailAndStatusPage walks issue 4 as a requester
// does: the recovery form with a mistake, then correctly; the
// acknowledgement mail; the status link; adding text and a file.
func TestBrowserRecoverFormMailAndStatusPage(t *testing.T) {
	s := newBrowserStack(t)
	a := s.profile(t, "requester")
	user := fmt.Sprintf("lost%d_%d", time.Now().UnixNano()%1e9, userSeq.Add(1))
	addr := user + "@example.org"
	explanation := "My phone with the authenticator app fell into the sea last week."

	a.open(s.url("/recover"))
	a.do("fill the form without an explanation",
		typeInto(field("recover-form", "username"), user),
		typeInto(field("recover-form", "contact_email"), addr),
		typeInto(field("recover-form", "name"), "Grace Hopper"),
		chromedp.Click(field("recover-form", "has_password")),
		typeInto(field("recover-form", "claimed_projects"), "cobol-tools"),
	)
	if status := a.load("send the form", chromedp.Click(tid("recover-submit"))); status != 422 {
		a.fatal("send without an explanation", fmt.Errorf("status %d, want 422", status))
	}
	if got := a.text(tid("field-explanation")); !strings.Contains(got, a.text(tid("error-explanation"))) || a.text(tid("error-explanation")) == "" {
		a.fatal("error next to the explanation", fmt.Errorf("field reads %q", got))
	}
	for name, want := range map[string]string{"username": user, "contact_email": addr, "name": "Grace Hopper", "claimed_projects": "cobol-tools"} {
		if got := a.value(field("recover-form", name)); got != want {
			a.fatal("keep "+name, fmt.Errorf("value %q, want %q", got, want))
		}
	}

	a.do("write the explanation", typeInto(field("recover-form", "explanation"), explanation))
	if status := a.load("send the form again", chromedp.Click(tid("recover-submit"))); status != 200 {
		a.fatal("send the form", fmt.Errorf("status %d", status))
	}
	ref := a.text(tid("case-reference"))
	if !strings.HasPrefix(ref, "RD-") {
		a.fatal("read the reference", fmt.Errorf("reference %q", ref))
	}
	statusLink := a.attr(tid("status-link"), "href")
	if !strings.HasPrefix(statusLink, s.url("/case/"+ref+"?token=")) {
		a.fatal("read the status link", fmt.Errorf("link %q", statusLink))
	}

	m := s.waitMail(t, addr, ref)
	if !strings.Contains(m.Text, statusLink) {
		t.Fatalf("acknowledgement %q lacks the status link %s:\n%s", m.Subject, statusLink, m.Text)
	}

	a.open(statusLink)
	if got := a.text(tid("case-status")); !strings.Contains(got, ref) {
		a.fatal("status page names the case", fmt.Errorf("reads %q", got))
	}
	if got := a.text(tid("case-messages")); !strings.Contains(got, explanation) {
		a.fatal("status page shows the explanation", fmt.Errorf("reads %q", got))
	}

	scan := filepath.Join(t.TempDir(), "old-invoice.txt")
	if err := os.WriteFile(scan, []byte("Invoice 2019 for cobol-tools hosting"), 0o600); err != nil {
		t.Fatal(err)
	}
	a.do("add text and a file",
		typeInto(field("case-add-form", "text"), "I also maintain cobol-lint."),
		chromedp.SetUploadFiles(field("case-add-form", "files"), []string{scan}),
	)
	a.load("add to the case", chromedp.Click(tid("case-add-submit")))
	if got := a.text(tid("case-messages")); !strings.Contains(got, "I also maintain cobol-lint.") {
		a.fatal("added text on the status page", fmt.Errorf("reads %q", got))
	}
	if got := a.text(tid("case-attachment")); !strings.Contains(got, "old-invoice.txt") || !strings.Contains(got, "36 bytes") {
		a.fatal("attachment on the status page", fmt.Errorf("reads %q", got))
	}
}

// value is the current value of the form control matching sel.
func (b *tab) value(sel chromedp.CSS) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Value(sel))
	if err != nil {
		b.fatal("read the value of "+string(sel), err)
	}
	return v
}

// attr is the attribute name of the first element matching sel.
func (b *tab) attr(sel chromedp.CSS, name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.AttributeValue(sel, name))
	if err == nil && !v.Exists {
		err = fmt.Errorf("no %s attribute", name)
	}
	if err != nil {
		b.fatal("read "+name+" of "+string(sel), err)
	}
	return v.Value
}
