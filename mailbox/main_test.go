package mailbox_test

import (
	"testing"

	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// TestMain gives the package's tests a migrated database (the outbox tests
// need one; the others do not mind).
func TestMain(m *testing.M) { testdb.Main(m) }
