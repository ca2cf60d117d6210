package desk_test

import (
	"testing"

	"github.com/recoverydesk/recoverydesk/desk"
)

func TestCanonicalEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"lower case", "Ada.Lovelace@Example.COM", "ada.lovelace@example.com"},
		{"trimmed", "  ada@example.com \t", "ada@example.com"},
		{"NFKC fullwidth letters", "ａｄａ@ｅｘａｍｐｌｅ.com", "ada@example.com"},
		{"NFKC fullwidth at gmail folds too", "Ａ.ＤＡ@gmail.com", "ada@gmail.com"},
		{"gmail dots", "a.d.a@gmail.com", "ada@gmail.com"},
		{"gmail plus tag", "ada+pypi@gmail.com", "ada@gmail.com"},
		{"gmail dots and plus tag", "A.da+x.y@GMail.com", "ada@gmail.com"},
		{"googlemail is gmail", "a.da+tag@googlemail.com", "ada@gmail.com"},
		{"outlook plus tag", "ada+news@outlook.com", "ada@outlook.com"},
		{"outlook keeps dots", "a.da@outlook.com", "a.da@outlook.com"},
		{"hotmail keeps dots, drops tag", "a.da+x@hotmail.com", "a.da@hotmail.com"},
		{"example.com keeps dots", "a.da@example.com", "a.da@example.com"},
		{"example.com keeps plus", "ada+tag@example.com", "ada+tag@example.com"},
		{"leading plus is not a tag", "+ada@gmail.com", "+ada@gmail.com"},
		{"subdomain of gmail is not gmail", "a.da+x@mail.gmail.com", "a.da+x@mail.gmail.com"},
		{"no at sign", "Not An Address", "not an address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := desk.CanonicalEmail(tt.in); got != tt.want {
				t.Errorf("CanonicalEmail(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCanonicalEmailIsIdempotent(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"Ａ.ＤＡ+x@googlemail.com", "a.da+x@outlook.com", "A.Da+X@Example.com"} {
		once := desk.CanonicalEmail(in)
		if twice := desk.CanonicalEmail(once); twice != once {
			t.Errorf("CanonicalEmail(%q) = %q, but again gives %q", in, once, twice)
		}
	}
}
