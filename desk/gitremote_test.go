package desk_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/internal/gitserve"
)

const testBranch = "rd-7k3f9q-x4k9p2"

func TestGitLsRemoteFindsPushedBranch(t *testing.T) {
	srv := gitserve.Start(t)
	url := srv.NewRepo(t, "proof")
	finder := desk.GitLsRemote{Timeout: 20 * time.Second}
	ctx := t.Context()

	commit, found, err := finder.FindBranch(ctx, url, testBranch)
	if err != nil || found || commit != "" {
		t.Fatalf("before push: FindBranch = %q, %v, %v; want \"\", false, nil", commit, found, err)
	}

	want := srv.PushBranch(t, "proof", testBranch)
	// A branch whose name only ends like ours must not count.
	srv.PushBranch(t, "proof", "other/"+testBranch)

	commit, found, err = finder.FindBranch(ctx, url, testBranch)
	if err != nil || !found || commit != want {
		t.Fatalf("after push: FindBranch = %q, %v, %v; want %q, true, nil", commit, found, err, want)
	}

	// Another challenge branch in the same repository stays absent.
	_, found, err = finder.FindBranch(ctx, url, "rd-7k3f9q-zzzzzz")
	if err != nil || found {
		t.Fatalf("other branch: found=%v err=%v; want false, nil", found, err)
	}
}

func TestGitLsRemoteUnknownRepositoryIsError(t *testing.T) {
	srv := gitserve.Start(t)
	_, found, err := desk.GitLsRemote{Timeout: 20 * time.Second}.FindBranch(t.Context(), srv.URL("missing"), testBranch)
	if err == nil || found {
		t.Fatalf("FindBranch on missing repo = found %v, err %v; want an error", found, err)
	}
	if errors.Is(err, desk.ErrInvalidRepositoryURL) {
		t.Fatalf("missing repo reported as invalid URL: %v", err)
	}
	// git's own explanation reaches the caller.
	if !strings.Contains(err.Error(), "no such repository") {
		t.Fatalf("error lacks git's stderr: %v", err)
	}
}

func TestGitLsRemoteUnreachableThenReachable(t *testing.T) {
	port := gitserve.FreePort(t)
	url := gitserve.URLFor(port, "later")
	finder := desk.GitLsRemote{Timeout: 20 * time.Second}

	_, found, err := finder.FindBranch(t.Context(), url, testBranch)
	if err == nil || found {
		t.Fatalf("nothing listening: found=%v err=%v; want an error", found, err)
	}
	if !strings.Contains(err.Error(), "desk: git ls-remote") {
		t.Fatalf("error lacks context: %v", err)
	}

	srv := gitserve.StartOn(t, port)
	if got := srv.NewRepo(t, "later"); got != url {
		t.Fatalf("NewRepo url = %q, want %q", got, url)
	}
	want := srv.PushBranch(t, "later", testBranch)
	commit, found, err := finder.FindBranch(t.Context(), url, testBranch)
	if err != nil || !found || commit != want {
		t.Fatalf("once reachable: FindBranch = %q, %v, %v; want %q, true, nil", commit, found, err, want)
	}
}

func TestGitLsRemoteTimeout(t *testing.T) {
	// A server that accepts and never answers: only the timeout ends the call.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})

	url := "git://127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port) + "/x.git"
	start := time.Now()
	_, found, err := desk.GitLsRemote{Timeout: time.Second}.FindBranch(t.Context(), url, testBranch)
	elapsed := time.Since(start)
	if err == nil || found {
		t.Fatalf("silent server: found=%v err=%v; want a timeout error", found, err)
	}
	if !strings.Contains(err.Error(), "timed out") || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error does not say it timed out: %v", err)
	}
	if elapsed > 10*time.Second {
		t.Fatalf("FindBranch took %s with a 1s timeout", elapsed)
	}
}

func TestGitLsRemoteCapsAndCleansServerError(t *testing.T) {
	// A hostile git:// server answers with a huge error full of terminal
	// escapes; the caller gets a short, printable message.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	payload := "ERR " + strings.Repeat("\x1b[31mevil", 400)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		// Read git's request pkt-line first: answering early would make
		// git's write fail with EPIPE instead of reading our error.
		var hdr [4]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		n, err := strconv.ParseUint(string(hdr[:]), 16, 16)
		if err != nil || n < 4 {
			return
		}
		if _, err := io.CopyN(io.Discard, c, int64(n-4)); err != nil {
			return
		}
		_, _ = fmt.Fprintf(c, "%04x%s", len(payload)+4, payload)
		// Hold the connection until git hangs up, so it reads everything.
		_, _ = io.Copy(io.Discard, c)
	}()
	t.Cleanup(wg.Wait)

	url := "git://127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port) + "/x.git"
	_, _, err = desk.GitLsRemote{Timeout: 20 * time.Second}.FindBranch(t.Context(), url, testBranch)
	if err == nil {
		t.Fatal("FindBranch succeeded against an erroring server")
	}
	msg := err.Error()
	if !strings.Contains(msg, "evil") {
		t.Fatalf("error lacks the server's message: %q", msg)
	}
	if strings.ContainsRune(msg, 0x1b) {
		t.Fatalf("error keeps control characters: %q", msg)
	}
	if len(msg) > 700 {
		t.Fatalf("error is %d bytes, want git's part capped", len(msg))
	}
}

func TestGitLsRemoteCallerCancel(t *testing.T) {
	srv := gitserve.Start(t)
	url := srv.NewRepo(t, "proof")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, found, err := desk.GitLsRemote{}.FindBranch(ctx, url, testBranch)
	if err == nil || found || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: found=%v err=%v; want context.Canceled", found, err)
	}
}

func TestValidRepositoryURL(t *testing.T) {
	cases := []struct {
		url string
		ok  bool
	}{
		{"https://github.com/acme/widgets.git", true},
		{"https://github.com/acme/widgets", true},
		{"http://git.example.org:8080/acme/widgets.git", true},
		{"git://127.0.0.1:9418/widgets.git", true},
		{"https://[::1]/repo.git", true},
		{"", false},
		{"file:///etc/passwd", false},
		{"file:///tmp/repo.git", false},
		{"ssh://git@github.com/acme/widgets.git", false},
		{"ssh://github.com/acme/widgets.git", false},
		{"git@github.com:acme/widgets.git", false},
		{"ext::sh -c touch% /tmp/pwned", false},
		{"ext::sh", false},
		{"-upload-pack=touch /tmp/pwned", false},
		{"--upload-pack=touch", false},
		{"https://user:secret@github.com/acme/widgets.git", false},
		{"https://token@github.com/acme/widgets.git", false},
		{"https:///acme/widgets.git", false},
		{"https://:443/acme/widgets.git", false},
		{"https://-oProxyCommand=x/repo.git", false},
		{"https:github.com/acme/widgets.git", false},
		{"/tmp/repo.git", false},
		{"../repo.git", false},
		{"https://github.com/acme/widgets.git?x=1", false},
		{"https://github.com/acme/widgets.git#main", false},
		{"https://github.com/acme/wid gets.git", false},
		{"https://github.com/acme/widgets.git\n", false},
		{"HTTPS://github.com/acme/widgets.git", true},
		{"https://github.com/" + strings.Repeat("a", 3000), false},
	}
	for _, c := range cases {
		err := desk.ValidRepositoryURL(c.url)
		if (err == nil) != c.ok {
			t.Errorf("ValidRepositoryURL(%q) = %v, want ok=%v", c.url, err, c.ok)
		}
		if err != nil && !errors.Is(err, desk.ErrInvalidRepositoryURL) {
			t.Errorf("ValidRepositoryURL(%q) = %v, not ErrInvalidRepositoryURL", c.url, err)
		}
	}
}

func TestFindBranchRejectsBadInputWithoutRunningGit(t *testing.T) {
	// A GitPath that cannot run proves validation happens before exec.
	finder := desk.GitLsRemote{GitPath: "/nonexistent/git"}
	_, _, err := finder.FindBranch(t.Context(), "file:///etc", testBranch)
	if !errors.Is(err, desk.ErrInvalidRepositoryURL) {
		t.Fatalf("file URL: err = %v, want ErrInvalidRepositoryURL", err)
	}
	for _, b := range []string{
		"", "main", "rd-", "rd-abc", "RD-7K3F9Q-X4K9P2", "rd-7k3f9q/x4k9p2", "rd-7k3f9q_x4k9p2",
		"--upload-pack=x", "rd-7k3f9q-x4k9p2 ", "rd-" + strings.Repeat("a", 61), "refs/heads/rd-7k3f9q-x4k9p2",
	} {
		_, _, err := finder.FindBranch(t.Context(), "https://github.com/acme/widgets.git", b)
		if !errors.Is(err, desk.ErrInvalidBranch) {
			t.Errorf("branch %q: err = %v, want ErrInvalidBranch", b, err)
		}
	}
	for _, b := range []string{"rd-abcd", testBranch, "rd-" + strings.Repeat("a", 60)} {
		if err := desk.ValidChallengeBranch(b); err != nil {
			t.Errorf("ValidChallengeBranch(%q) = %v, want nil", b, err)
		}
	}
}

func TestNewChallengeBranch(t *testing.T) {
	re := regexp.MustCompile(`^rd-7k3f9q-[a-z0-9]{6}$`)
	seen := map[string]bool{}
	for range 50 {
		b, err := desk.NewChallengeBranch("RD-7K3F9Q")
		if err != nil {
			t.Fatal(err)
		}
		if !re.MatchString(b) {
			t.Fatalf("NewChallengeBranch = %q, want rd-7k3f9q-xxxxxx", b)
		}
		if err := desk.ValidChallengeBranch(b); err != nil {
			t.Fatalf("NewChallengeBranch made %q, which FindBranch refuses: %v", b, err)
		}
		seen[b] = true
	}
	// 36^6 possibilities: 50 draws colliding down to a handful means no randomness.
	if len(seen) < 45 {
		t.Fatalf("only %d distinct branches from 50 draws", len(seen))
	}
	if _, err := desk.NewChallengeBranch("not a ref"); err == nil {
		t.Fatal("NewChallengeBranch accepted an invalid reference")
	}
}
