package workers_test

import (
	"testing"

	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// TestMain gives the package's tests a migrated database, River's tables
// included.
func TestMain(m *testing.M) { testdb.Main(m) }
