package desk_test

import (
	"errors"
	"os"
	"testing"

	"github.com/recoverydesk/recoverydesk/internal/dovecot"
)

// dovecotServer is a private Dovecot (internal/dovecot) for one test.
type dovecotServer struct {
	*dovecot.Server
	t *testing.T
}

// startDovecot starts Dovecot, or skips (fails under REQUIRE_DOVECOT=1)
// when it is not installed.
func startDovecot(t *testing.T) *dovecotServer {
	t.Helper()
	s, err := dovecot.Start(dovecot.Options{Username: unique("support"), Password: "s3cret"})
	if errors.Is(err, dovecot.ErrNotInstalled) && os.Getenv("REQUIRE_DOVECOT") != "1" {
		t.Skipf("SKIPPED: %v; the Dovecot ingestion test did not run", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return &dovecotServer{Server: s, t: t}
}

func (s *dovecotServer) crash(t *testing.T, _ [][]byte) {
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
}
