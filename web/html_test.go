package web_test

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// doc is a parsed page with lookups by data-testid and by predicate.
type doc struct {
	t    *testing.T
	root *html.Node
}

func parse(t *testing.T, body string) doc {
	t.Helper()
	root, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc{t: t, root: root}
}

// all returns the elements under n (n included) for which match is true.
func all(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && match(d) {
			out = append(out, d)
		}
	}
	return out
}

func (d doc) all(match func(*html.Node) bool) []*html.Node { return all(d.root, match) }

// testID returns the single element with that data-testid, failing the
// test if there is none or more than one.
func (d doc) testID(id string) *html.Node {
	d.t.Helper()
	found := d.all(hasAttr("data-testid", id))
	if len(found) != 1 {
		d.t.Fatalf("%d elements with data-testid=%q, want 1", len(found), id)
	}
	return found[0]
}

func (d doc) hasTestID(id string) bool {
	return len(d.all(hasAttr("data-testid", id))) > 0
}

func hasAttr(name, value string) func(*html.Node) bool {
	return func(n *html.Node) bool {
		v, ok := attr(n, name)
		return ok && v == value
	}
}

func isTag(tag string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == tag }
}

func attr(n *html.Node, name string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val, true
		}
	}
	return "", false
}

func mustAttr(t *testing.T, n *html.Node, name string) string {
	t.Helper()
	v, ok := attr(n, name)
	if !ok {
		t.Fatalf("<%s> has no %s attribute", n.Data, name)
	}
	return v
}

// text is the text content of n, whitespace collapsed.
func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
			b.WriteString(" ")
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// rawText is the text content of n exactly as parsed.
func rawText(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

// formValue returns the value of the named input or textarea inside n.
func formValue(t *testing.T, n *html.Node, name string) string {
	t.Helper()
	found := all(n, func(e *html.Node) bool {
		v, _ := attr(e, "name")
		return v == name && (e.Data == "input" || e.Data == "textarea")
	})
	if len(found) != 1 {
		t.Fatalf("%d fields named %q, want 1", len(found), name)
	}
	if found[0].Data == "textarea" {
		return rawText(found[0])
	}
	v, _ := attr(found[0], "value")
	return v
}

// wantLayout checks the landmarks every page has.
func wantLayout(t *testing.T, d doc) {
	t.Helper()
	if got := text(d.testID("site-name")); got != testSite {
		t.Errorf("site name %q, want %q", got, testSite)
	}
	if len(d.all(isTag("header"))) != 1 || len(d.all(isTag("footer"))) != 1 {
		t.Error("want one header and one footer")
	}
	if len(d.all(hasAttr("id", "main"))) != 1 || d.testID("main").Data != "main" {
		t.Error(`want <main id="main">`)
	}
	if v, _ := attr(d.testID("flashes"), "role"); v != "status" {
		t.Error(`flash region lacks role="status"`)
	}
	html := d.all(isTag("html"))
	if lang, _ := attr(html[0], "lang"); lang != "en" {
		t.Errorf(`html lang=%q, want "en"`, lang)
	}
}
