package workers_test

import (
	"net/url"
	"testing"

	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// TestMain gives the package's tests a migrated database, River's tables
// included.
func TestMain(m *testing.M) { testdb.Main(m) }

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
