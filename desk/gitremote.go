package desk

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"
	"unicode"
)

// ErrInvalidRepositoryURL and ErrInvalidBranch mark input we refuse to hand
// to git at all: permanent, unlike a failed ls-remote, which is transient.
var (
	ErrInvalidRepositoryURL = errors.New("desk: invalid repository URL")
	ErrInvalidBranch        = errors.New("desk: invalid challenge branch")
)

// BranchFinder reports whether a branch exists in a remote repository.
type BranchFinder interface {
	FindBranch(ctx context.Context, repoURL, branch string) (commit string, found bool, err error)
}

// DefaultGitTimeout bounds one ls-remote when GitLsRemote.Timeout is zero.
const DefaultGitTimeout = 30 * time.Second

// GitLsRemote finds branches with `git ls-remote`, run with a locked-down
// environment because the URL comes from a stranger.
type GitLsRemote struct {
	Timeout time.Duration // per call; DefaultGitTimeout if zero
	GitPath string        // "git" from PATH if empty
}

var _ BranchFinder = GitLsRemote{}

// challengeBranchRE matches branches made by NewChallengeBranch, so nothing
// that looks like an option or a refspec trick reaches git.
var challengeBranchRE = regexp.MustCompile(`^rd-[a-z0-9-]{4,60}$`)

const (
	maxRepositoryURLLen = 2048
	maxGitStderr        = 500
	maxGitStdout        = 64 << 10
)

// ValidRepositoryURL accepts only https, http and git URLs with a host and
// no credentials: anything else (file, ssh, ext::, option-like strings) could
// make git read local files or run commands.
func ValidRepositoryURL(raw string) error {
	if raw == "" {
		return fmt.Errorf("%w: empty", ErrInvalidRepositoryURL)
	}
	if len(raw) > maxRepositoryURLLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidRepositoryURL, maxRepositoryURLLen)
	}
	if strings.HasPrefix(raw, "-") {
		return fmt.Errorf("%w: starts with '-'", ErrInvalidRepositoryURL)
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f || !unicode.IsPrint(r) {
			return fmt.Errorf("%w: contains whitespace or control characters", ErrInvalidRepositoryURL)
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidRepositoryURL, err)
	}
	switch u.Scheme {
	case "https", "http", "git":
	default:
		return fmt.Errorf("%w: scheme must be https, http or git", ErrInvalidRepositoryURL)
	}
	if u.Opaque != "" {
		return fmt.Errorf("%w: not a hierarchical URL", ErrInvalidRepositoryURL)
	}
	if u.User != nil {
		return fmt.Errorf("%w: must not contain a user name or password", ErrInvalidRepositoryURL)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%w: host required", ErrInvalidRepositoryURL)
	}
	if strings.HasPrefix(host, "-") {
		return fmt.Errorf("%w: host starts with '-'", ErrInvalidRepositoryURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("%w: must not have a query or fragment", ErrInvalidRepositoryURL)
	}
	return nil
}

// ValidChallengeBranch accepts the branch names NewChallengeBranch makes.
func ValidChallengeBranch(branch string) error {
	if !challengeBranchRE.MatchString(branch) {
		return fmt.Errorf("%w: %q", ErrInvalidBranch, branch)
	}
	return nil
}

// FindBranch runs `git ls-remote --heads` for refs/heads/branch. An absent
// branch is ("", false, nil); a failed run (unreachable host, unknown
// repository, timeout) is an error worth retrying later.
func (g GitLsRemote) FindBranch(ctx context.Context, repoURL, branch string) (string, bool, error) {
	if err := ValidRepositoryURL(repoURL); err != nil {
		return "", false, err
	}
	if err := ValidChallengeBranch(branch); err != nil {
		return "", false, err
	}
	timeout := g.Timeout
	if timeout <= 0 {
		timeout = DefaultGitTimeout
	}
	gitPath := g.GitPath
	if gitPath == "" {
		gitPath = "git"
	}

	// An empty HOME per call: a shared dir such as /tmp could hold a planted
	// .gitconfig.
	home, err := os.MkdirTemp("", "rd-git-home-")
	if err != nil {
		return "", false, fmt.Errorf("desk: git ls-remote: home dir: %w", err)
	}
	defer os.RemoveAll(home)

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	ref := "refs/heads/" + branch
	cmd := exec.CommandContext(ctx, gitPath,
		"-c", "credential.helper=",
		"ls-remote", "--heads", "--", repoURL, ref)
	cmd.Dir = home
	cmd.Env = gitEnv(home)
	// https runs git-remote-https as a child; kill the whole group on
	// timeout so no helper outlives the call.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	stdout := &cappedBuffer{limit: maxGitStdout}
	stderr := &cappedBuffer{limit: 4 * maxGitStderr}
	cmd.Stdout, cmd.Stderr = stdout, stderr

	runErr := cmd.Run()
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return "", false, fmt.Errorf("desk: git ls-remote %s: timed out after %s: %w", repoURL, timeout, ctxErr)
		}
		return "", false, fmt.Errorf("desk: git ls-remote %s: %w", repoURL, ctxErr)
	}
	if runErr != nil {
		msg := cleanGitStderr(stderr.String())
		if msg == "" {
			return "", false, fmt.Errorf("desk: git ls-remote %s: %w", repoURL, runErr)
		}
		return "", false, fmt.Errorf("desk: git ls-remote %s: %w: %s", repoURL, runErr, msg)
	}

	// ls-remote matches patterns by trailing path components, so
	// refs/heads/x/refs/heads/<branch> would match too; insist on the exact ref.
	sc := bufio.NewScanner(bytes.NewReader(stdout.buf.Bytes()))
	for sc.Scan() {
		sha, name, ok := strings.Cut(sc.Text(), "\t")
		if ok && name == ref && isHexHash(sha) {
			return sha, true, nil
		}
	}
	return "", false, nil
}

// gitEnv is the whole environment git sees: no prompts, no local or
// command-running transports, no user or system config.
func gitEnv(home string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_ASKPASS=/bin/true",
		"SSH_ASKPASS=/bin/true",
		"GIT_ALLOW_PROTOCOL=https:http:git",
		"LC_ALL=C",
	}
	// Proxies and CA bundles are deployment settings git needs to reach
	// https hosts at all.
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// cleanGitStderr trims git's stderr to a short, printable message: it may
// carry text chosen by the remote server.
func cleanGitStderr(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return ' '
		case r < ' ' || r == 0x7f || !unicode.IsPrint(r):
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxGitStderr {
		cut := maxGitStderr
		for cut > 0 && !utf8RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

func isHexHash(s string) bool {
	if len(s) != 40 && len(s) != 64 { // SHA-1 or SHA-256 repositories
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// cappedBuffer keeps the first limit bytes and discards the rest, so a
// hostile server cannot make us buffer without bound.
type cappedBuffer struct {
	buf   bytes.Buffer
	limit int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if room := b.limit - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *cappedBuffer) String() string { return b.buf.String() }

// branchAlphabet is what git and the branch pattern both accept.
const branchAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// NewChallengeBranch returns the branch a requester must push to prove
// control of a repository, e.g. "rd-7k3f9q-x4k9p2" for case RD-7K3F9Q.
func NewChallengeBranch(ref string) (string, error) {
	canon, ok := NormalizeReference(ref)
	if !ok {
		return "", fmt.Errorf("desk: challenge branch: invalid case reference %q", ref)
	}
	suffix := make([]byte, 0, 6)
	var buf [16]byte
	for len(suffix) < 6 {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("desk: challenge branch: %w", err)
		}
		for _, c := range buf {
			// Reject the top of the byte range so each character is
			// equally likely (252 = 7*36).
			if int(c) < 252 && len(suffix) < 6 {
				suffix = append(suffix, branchAlphabet[int(c)%len(branchAlphabet)])
			}
		}
	}
	return "rd-" + strings.ToLower(strings.TrimPrefix(canon, "RD-")) + "-" + string(suffix), nil
}
