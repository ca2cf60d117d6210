package mailbox_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/recoverydesk/recoverydesk/mailbox"
)

func TestNormalizeMessageID(t *testing.T) {
	cases := map[string]string{
		"<Abc@Host.Example>":                    "Abc@host.example",
		"  <Abc@Host>  ":                        "Abc@host",
		"Abc@HOST":                              "Abc@host",
		"<a b\r\n @c.D>":                        "ab@c.d",
		"<first@x> <second@y>":                  "first@x",
		"<>":                                    "",
		"":                                      "",
		"<local@part@Domain.ORG>":               "local@part@domain.org",
		"<unterminated@X":                       "unterminated@x",
		"<" + strings.Repeat("x", 1000) + "@y>": "",
	}
	for in, want := range cases {
		if got := mailbox.NormalizeMessageID(in); got != want {
			t.Errorf("NormalizeMessageID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseMessageIDList(t *testing.T) {
	cases := []struct{ in, want string }{
		{"<a@x> <b@y>", "a@x b@y"},
		{"<a@x>,<b@y>", "a@x b@y"},
		{"<a@x>\r\n\t<b@Y>", "a@x b@y"},
		{"a@x b@y", "a@x b@y"},
		{"<a@x> <a@X>", "a@x"},
		{"Your message of Mon, 13 Jan 2025 <id@host> (Alice)", "id@host"},
		{"(comment <c@d>) <e@f>", "e@f"},
		{"<no-at> <> garbage", ""},
		{"<<a@x>>", "a@x"},
		{"<a@x", "a@x"},
		{"", ""},
	}
	for _, c := range cases {
		if got := strings.Join(mailbox.ParseMessageIDList(c.in), " "); got != c.want {
			t.Errorf("ParseMessageIDList(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// A very long References keeps the root and the most recent IDs.
func TestParseMessageIDListBounded(t *testing.T) {
	var b strings.Builder
	for i := range 250 {
		fmt.Fprintf(&b, "<id%d@x> ", i)
	}
	got := mailbox.ParseMessageIDList(b.String())
	if len(got) != 100 || got[0] != "id0@x" || got[1] != "id151@x" || got[99] != "id249@x" {
		t.Errorf("%d IDs: %q ... %q", len(got), got[:2], got[len(got)-1])
	}
}
