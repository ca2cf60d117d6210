package gitserve_test

import (
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/recoverydesk/recoverydesk/internal/gitserve"
)

func lsRemote(t *testing.T, url string) (string, error) {
	t.Helper()
	cmd := exec.Command("git", "ls-remote", "--", url)
	cmd.Env = []string{"GIT_CONFIG_NOSYSTEM=1", "HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestServesReposAndBranches(t *testing.T) {
	s := gitserve.Start(t)
	url := s.NewRepo(t, "demo")
	if want := "git://127.0.0.1:" + strconv.Itoa(s.Port) + "/demo.git"; url != want {
		t.Fatalf("url = %q, want %q", url, want)
	}
	out, err := lsRemote(t, url)
	if err != nil {
		t.Fatalf("ls-remote: %v: %s", err, out)
	}
	if !strings.Contains(out, "\trefs/heads/main\n") {
		t.Fatalf("main missing from ls-remote:\n%s", out)
	}

	commit := s.PushBranch(t, "demo", "rd-abc123-x4k9p2")
	if len(commit) != 40 {
		t.Fatalf("commit = %q, want a 40-char hash", commit)
	}
	out, err = lsRemote(t, url)
	if err != nil {
		t.Fatalf("ls-remote: %v: %s", err, out)
	}
	if !strings.Contains(out, commit+"\trefs/heads/rd-abc123-x4k9p2\n") {
		t.Fatalf("pushed branch missing from ls-remote:\n%s", out)
	}
}

func TestStopThenStartOnSamePort(t *testing.T) {
	s := gitserve.Start(t)
	port := s.Port
	s.Stop()
	s.Stop() // idempotent
	if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
		_ = c.Close()
		t.Fatalf("port %d still accepting after Stop", port)
	}

	s2 := gitserve.StartOn(t, port)
	url := s2.NewRepo(t, "later")
	if out, err := lsRemote(t, url); err != nil {
		t.Fatalf("ls-remote after restart: %v: %s", err, out)
	}
}
