package components_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/recoverydesk/recoverydesk/web/views/components"
)

func renderNodes(t *testing.T, f components.Field) map[string]*html.Node {
	t.Helper()
	var buf bytes.Buffer
	if err := components.FormField(f).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	byTag := map[string]*html.Node{}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		if _, seen := byTag[n.Data]; !seen {
			byTag[n.Data] = n
		}
		for _, a := range n.Attr {
			if a.Key == "class" && (a.Val == "hint" || a.Val == "field-error") {
				byTag[a.Val] = n
			}
		}
	}
	return byTag
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func TestFormFieldTiesLabelHintAndError(t *testing.T) {
	for _, rows := range []int{0, 4} {
		f := components.Field{
			Name:     "subject",
			Label:    "Subject",
			Value:    "\n" + `<b>kept</b> "as typed"`,
			Hint:     "One line.",
			Error:    "Enter a subject.",
			Required: true,
			Rows:     rows,
		}
		n := renderNodes(t, f)
		control := n["input"]
		if rows > 0 {
			control = n["textarea"]
		}
		if control == nil {
			t.Fatalf("rows=%d: no control rendered", rows)
		}
		if attr(n["label"], "for") != attr(control, "id") || attr(control, "id") != f.ID() {
			t.Errorf("rows=%d: label for=%q, control id=%q", rows, attr(n["label"], "for"), attr(control, "id"))
		}
		desc := strings.Fields(attr(control, "aria-describedby"))
		if len(desc) != 2 || desc[0] != attr(n["hint"], "id") || desc[1] != attr(n["field-error"], "id") {
			t.Errorf("rows=%d: aria-describedby %q, want the hint then the error", rows, desc)
		}
		if attr(control, "aria-invalid") != "true" {
			t.Errorf("rows=%d: not aria-invalid", rows)
		}
		got := attr(control, "value")
		if rows > 0 {
			got = control.FirstChild.Data
		}
		if got != f.Value {
			t.Errorf("rows=%d: value %q, want it kept exactly", rows, got)
		}
	}
}

func TestFormFieldWithoutError(t *testing.T) {
	n := renderNodes(t, components.Field{Name: "from_name", Label: "From name"})
	if n["field-error"] != nil {
		t.Error("error element rendered without an error")
	}
	in := n["input"]
	for _, a := range []string{"aria-invalid", "aria-describedby", "required"} {
		for _, got := range in.Attr {
			if got.Key == a {
				t.Errorf("unexpected %s on a valid optional field", a)
			}
		}
	}
	if attr(in, "type") != "text" {
		t.Errorf("type %q, want text", attr(in, "type"))
	}
}
