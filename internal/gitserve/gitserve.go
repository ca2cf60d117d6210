// Package gitserve runs a throwaway git daemon for tests: bare repositories
// in a temp dir, served over git:// on 127.0.0.1. Tests only; production
// code never imports it.
package gitserve

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// readyTimeout bounds how long a fresh daemon may take to accept connections.
const readyTimeout = 10 * time.Second

// Server is a running git daemon serving bare repositories from Dir.
type Server struct {
	Dir  string // base path: repository "name" lives at Dir/name.git
	Port int

	home string // isolated HOME so the user's git config never applies
	cmd  *exec.Cmd
	done chan struct{} // closed when the daemon process has been reaped

	stderr   *syncBuffer
	stopOnce sync.Once
}

// Start starts a git daemon on a free port. It is stopped in t.Cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	var lastErr error
	// Another process may grab the port between picking and binding, so
	// retry with a fresh one a few times.
	for range 5 {
		s, err := start(t, FreePort(t))
		if err == nil {
			return s
		}
		lastErr = err
	}
	t.Fatalf("gitserve: start git daemon: %v", lastErr)
	return nil
}

// StartOn starts a git daemon on the given port, e.g. one from FreePort that
// a test first used while nothing was listening.
func StartOn(t testing.TB, port int) *Server {
	t.Helper()
	s, err := start(t, port)
	if err != nil {
		t.Fatalf("gitserve: start git daemon on port %d: %v", port, err)
	}
	return s
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("gitserve: pick port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatalf("gitserve: pick port: %v", err)
	}
	return port
}

// URLFor is the git:// URL a server on port would give repository name.
func URLFor(port int, name string) string {
	return fmt.Sprintf("git://127.0.0.1:%d/%s.git", port, name)
}

func start(t testing.TB, port int) (*Server, error) {
	t.Helper()
	s := &Server{
		Dir:    t.TempDir(),
		Port:   port,
		home:   t.TempDir(),
		done:   make(chan struct{}),
		stderr: &syncBuffer{},
	}
	cmd := exec.Command(gitPath(), "daemon",
		"--export-all",
		"--base-path="+s.Dir,
		"--reuseaddr",
		"--enable=receive-pack",
		"--listen=127.0.0.1",
		"--port="+strconv.Itoa(port),
		"--informative-errors",
		s.Dir,
	)
	cmd.Env = s.env()
	cmd.Stdout = s.stderr
	cmd.Stderr = s.stderr
	// git daemon forks a child per connection; its own group lets Stop kill
	// them all at once.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run git daemon: %w", err)
	}
	s.cmd = cmd
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(); err != nil {
		s.Stop()
		return nil, err
	}
	t.Cleanup(s.Stop)
	return s, nil
}

// waitReady polls the port until the daemon accepts a connection, the
// daemon exits (e.g. the port was taken) or the deadline passes.
func (s *Server) waitReady() error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("git daemon exited: %s", strings.TrimSpace(s.stderr.String()))
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("git daemon not accepting on %s after %s: %v; stderr: %s",
				addr, readyTimeout, err, strings.TrimSpace(s.stderr.String()))
		}
		select {
		case <-s.done:
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Stop kills the daemon and its children and waits for it to exit. It is
// safe to call more than once; a later StartOn may reuse the port.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.cmd == nil || s.cmd.Process == nil {
			return
		}
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	})
}

// URL is the git:// URL of repository name on this server.
func (s *Server) URL(name string) string { return URLFor(s.Port, name) }

// RepoPath is the on-disk path of bare repository name.
func (s *Server) RepoPath(name string) string { return filepath.Join(s.Dir, name+".git") }

// NewRepo creates bare repository name with one commit on main and returns
// its git:// URL.
func (s *Server) NewRepo(t testing.TB, name string) string {
	t.Helper()
	repo := s.RepoPath(name)
	s.git(t, "", nil, "init", "--quiet", "--bare", "--initial-branch=main", repo)
	// Plumbing builds the commit straight into the bare repository, so no
	// working clone is needed.
	blob := s.git(t, repo, strings.NewReader("# "+name+"\n"), "hash-object", "-w", "--stdin")
	tree := s.git(t, repo, strings.NewReader("100644 blob "+blob+"\tREADME.md\n"), "mktree")
	commit := s.git(t, repo, nil, "commit-tree", "-m", "initial commit", tree)
	s.git(t, repo, nil, "update-ref", "refs/heads/main", commit)
	return s.URL(name)
}

// PushBranch adds branch to repository name with a new commit on top of main
// and returns that commit's hash.
func (s *Server) PushBranch(t testing.TB, name, branch string) string {
	t.Helper()
	repo := s.RepoPath(name)
	tree := s.git(t, repo, nil, "rev-parse", "refs/heads/main^{tree}")
	commit := s.git(t, repo, nil, "commit-tree", "-p", "refs/heads/main", "-m", "challenge "+branch, tree)
	s.git(t, repo, nil, "update-ref", "refs/heads/"+branch, commit)
	return commit
}

// git runs a git command (in gitDir if set) and returns its trimmed stdout.
func (s *Server) git(t testing.TB, gitDir string, stdin io.Reader, args ...string) string {
	t.Helper()
	full := []string{"-c", "user.name=gitserve", "-c", "user.email=gitserve@example.invalid"}
	if gitDir != "" {
		full = append(full, "--git-dir="+gitDir)
	}
	full = append(full, args...)
	cmd := exec.Command(gitPath(), full...)
	cmd.Env = s.env()
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("gitserve: git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String())
}

// env keeps git away from the user's and the system's configuration.
func (s *Server) env() []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + s.home,
		"XDG_CONFIG_HOME=" + s.home,
		"GIT_CONFIG_NOSYSTEM=1",
		"LC_ALL=C",
	}
}

func gitPath() string {
	if p, err := exec.LookPath("git"); err == nil {
		return p
	}
	return "/usr/bin/git"
}

// syncBuffer collects daemon output written by exec's copying goroutine
// while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Cap it: only the start matters for diagnosing a failed start.
	if room := 64<<10 - b.buf.Len(); room > 0 {
		if len(p) > room {
			b.buf.Write(p[:room])
		} else {
			b.buf.Write(p)
		}
	}
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
