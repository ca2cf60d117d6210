package desk_test

import (
	"regexp"
	"testing"

	"github.com/recoverydesk/recoverydesk/desk"
)

func TestNewReference(t *testing.T) {
	re := regexp.MustCompile(`^RD-[2-9A-HJKMNP-Z]{6}$`)
	seen := map[string]bool{}
	for range 1000 {
		r, err := desk.NewReference()
		if err != nil {
			t.Fatal(err)
		}
		if !re.MatchString(r) {
			t.Fatalf("reference %q has a look-alike or wrong shape", r)
		}
		seen[r] = true
	}
	if len(seen) < 990 {
		t.Fatalf("only %d distinct references in 1000", len(seen))
	}
}

func TestNormalizeReference(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"RD-7K3F9Q", "RD-7K3F9Q", true},
		{"rd-7k3f9q", "RD-7K3F9Q", true},
		{" rd 7k3f9q ", "RD-7K3F9Q", true},
		{"7K3F9Q", "RD-7K3F9Q", true},
		{"RD-7K3F9", "", false},
		{"RD-7K3F9O", "", false}, // O is not in the alphabet
		{"RD-7K3F91", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		got, ok := desk.NormalizeReference(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NormalizeReference(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
