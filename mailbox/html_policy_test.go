package mailbox_test

import (
	"strings"
	"testing"

	"github.com/recoverydesk/recoverydesk/mailbox"
)

// Mail HTML keeps its text and outside links, loses script, handlers and
// anything pointing at our own site (a relative URL would load one of our
// pages with the reader's cookies).
func TestHTMLPolicy(t *testing.T) {
	out := mailbox.HTMLPolicy().Sanitize(`<p onclick="x()">Hello <b>there</b></p><script>alert(1)</script>` +
		`<img src="/pwned?m=1"><a href="logout">out</a><a href="javascript:alert(1)">js</a>` +
		`<a href="https://github.com/ada/proj">repo</a>`)
	for _, bad := range []string{"onclick", "<script", "/pwned", `href="logout"`, "javascript:"} {
		if strings.Contains(out, bad) {
			t.Errorf("sanitised HTML keeps %q: %s", bad, out)
		}
	}
	for _, good := range []string{"Hello <b>there</b>", `href="https://github.com/ada/proj"`, `rel="nofollow noreferrer noopener"`, `target="_blank"`} {
		if !strings.Contains(out, good) {
			t.Errorf("sanitised HTML lost %q: %s", good, out)
		}
	}
}
