package registry_test

import (
	"testing"

	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }
