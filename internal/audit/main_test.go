package audit_test

import (
	"testing"

	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// The package database is shared and every test here empties the audit
// log first, so these tests must not call t.Parallel.
func TestMain(m *testing.M) { testdb.Main(m) }
