package main_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

var build struct {
	once sync.Once
	path string
	err  error
}

// binary builds recoverydesk once for the package: these tests run the
// real program, as a person or a script would.
func binary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		dir, err := os.MkdirTemp("", "rd-bin-")
		if err != nil {
			build.err = err
			return
		}
		build.path = filepath.Join(dir, "recoverydesk")
		out, err := exec.Command("go", "build", "-o", build.path, ".").CombinedOutput()
		if err != nil {
			build.err = errors.New(string(out))
		}
	})
	if build.err != nil {
		t.Fatalf("build: %v", build.err)
	}
	return build.path
}

type result struct {
	code           int
	stdout, stderr string
}

func runCmd(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Env = append(baseEnv(t), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, stdout.String(), stderr.String()}
}

// baseEnv is a clean environment: only PATH and HOME from ours, so the
// developer's own variables cannot change what is tested.
func baseEnv(t *testing.T) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "DATA_DIR=" + t.TempDir()}
}

func TestHelpAndUsageErrors(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"help"}, 0, "Commands:"},
		{[]string{"--help"}, 0, "migrate"},
		{[]string{}, 2, "Usage: recoverydesk <command>"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"serve", "--help"}, 0, "Usage: recoverydesk serve"},
		{[]string{"dev", "-h"}, 0, "-smtp-addr"},
		{[]string{"help", "migrate"}, 0, "migrate status"},
		{[]string{"dev", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"migrate", "sideways"}, 2, `unexpected argument "sideways"`},
		{[]string{"serve", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"audit", "--help"}, 0, "Usage: recoverydesk audit verify"},
		{[]string{"audit", "verify", "--help"}, 0, "audit verify  walks the audit log"},
		{[]string{"help", "audit"}, 0, "audit log OK: N rows"},
		{[]string{"audit"}, 2, "missing subcommand"},
		{[]string{"audit", "repair"}, 2, `unknown subcommand "repair"`},
		{[]string{"audit", "verify", "now"}, 2, `unexpected argument "now"`},
		{[]string{"bench", "--help"}, 0, "http     Load /recover"},
		{[]string{"bench", "--help"}, 0, "ingest   APPEND"},
		{[]string{"bench"}, 2, "name a benchmark"},
		{[]string{"bench", "nope"}, 2, `unknown benchmark "nope"`},
		{[]string{"bench", "http", "--help"}, 0, "-scenarios"},
		{[]string{"bench", "ingest", "--help"}, 0, "-large-mib"},
		{[]string{"bench", "ingest", "--bogus"}, 2, "flag provided but not defined: -bogus"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runCmd(t, nil, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout+r.stderr, tc.contains) {
				t.Fatalf("output lacks %q:\n%s%s", tc.contains, r.stdout, r.stderr)
			}
		})
	}
}

func TestConfigErrorsExit3NamingTheVariable(t *testing.T) {
	tests := []struct {
		args     []string
		env      []string
		variable string
	}{
		{[]string{"serve"}, []string{"BASE_URL=https://rd.example.org"}, "SECRET_KEY"},
		{[]string{"serve"}, []string{"SECRET_KEY=0123456789abcdef0123456789abcdef", "BASE_URL=https://rd.example.org", "HTTP_ADDR=nonsense"}, "HTTP_ADDR"},
		{[]string{"worker"}, []string{"SECRET_KEY=0123456789abcdef0123456789abcdef", "BASE_URL=https://rd.example.org"}, "SMTP_URL"},
		{[]string{"migrate"}, []string{"DATABASE_URL=mysql://nope"}, "DATABASE_URL"},
	}
	for _, tc := range tests {
		r := runCmd(t, tc.env, tc.args...)
		if r.code != 3 || !strings.Contains(r.stderr, tc.variable) {
			t.Errorf("%v %v: exit %d, stderr %q; want exit 3 naming %s", tc.args, tc.env, r.code, r.stderr, tc.variable)
		}
	}
}

func TestMigrateTwiceAndStatus(t *testing.T) {
	env := []string{"DATABASE_URL=" + testdb.Fresh(t)}
	pendingLine := regexp.MustCompile(`(?m)^pending `)
	if r := runCmd(t, env, "migrate", "status"); r.code != 4 || !pendingLine.MatchString(r.stdout) {
		t.Fatalf("status on a fresh database: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCmd(t, env, "migrate"); r.code != 0 || !strings.Contains(r.stdout, "Applied") {
		t.Fatalf("first migrate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCmd(t, env, "migrate"); r.code != 0 || !strings.Contains(r.stdout, "up to date") {
		t.Fatalf("second migrate is not a no-op: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r := runCmd(t, env, "migrate", "status")
	if r.code != 0 || pendingLine.MatchString(r.stdout) || !strings.Contains(r.stdout, "applied") {
		t.Fatalf("status after migrate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// process is a running recoverydesk whose output lines can be waited for.
type process struct {
	cmd   *exec.Cmd
	lines chan string
	mu    sync.Mutex
	log   strings.Builder
	done  chan error
}

func start(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	p := &process{lines: make(chan string, 1000), done: make(chan error, 1)}
	p.cmd = exec.Command(binary(t), args...)
	p.cmd.Env = append(baseEnv(t), env...)
	stdout, _ := p.cmd.StdoutPipe()
	stderr, _ := p.cmd.StderrPipe()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, r := range []io.Reader{stdout, stderr} {
		wg.Go(func() {
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				p.mu.Lock()
				p.log.WriteString(sc.Text() + "\n")
				p.mu.Unlock()
				select {
				case p.lines <- sc.Text():
				default:
				}
			}
		})
	}
	go func() { wg.Wait(); p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("program output:\n%s", p.output())
		}
	})
	return p
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// waitFor returns the first submatch of re in a line of output.
func (p *process) waitFor(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.After(2 * time.Minute)
	for {
		select {
		case line := <-p.lines:
			if m := re.FindStringSubmatch(line); m != nil {
				return m[1]
			}
		case err := <-p.done:
			p.done <- err
			t.Fatalf("program exited (%v) before printing %s", err, re)
		case <-deadline:
			t.Fatalf("no line matching %s", re)
		}
	}
}

// stop sends sig and returns the exit code.
func (p *process) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(time.Minute):
		t.Fatal("program did not exit within a minute of the signal")
		return -1
	}
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeAnswersAndShutsDownOnSIGTERM(t *testing.T) {
	p := start(t, []string{
		"DATABASE_URL=" + testdb.URL(t), "HTTP_ADDR=127.0.0.1:0",
		"SECRET_KEY=0123456789abcdef0123456789abcdef", "BASE_URL=http://rd.test",
	}, "serve")
	addr := p.waitFor(t, regexp.MustCompile(`msg=serving .*addr=(\S+)`))
	base := "http://" + addr
	if code, _ := get(t, base+"/readyz"); code != 200 {
		t.Fatalf("/readyz = %d", code)
	}
	if code, _ := get(t, base+"/dev/mail"); code != 404 {
		t.Fatalf("/dev/mail outside dev = %d, want 404", code)
	}
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d after SIGTERM, want 0", code)
	}
}

// The "checked by": dev serves /, /readyz, /dev/mail; an unknown
// path is 404; a POST without CSRF token is 403; Ctrl-C exits 0.
func TestDevRunsEverything(t *testing.T) {
	p := start(t, []string{"DATABASE_URL=" + testdb.Fresh(t), "HTTP_ADDR=127.0.0.1:0"},
		"dev", "--smtp-addr", "127.0.0.1:0", "--imap-addr", "127.0.0.1:0")
	addr := p.waitFor(t, regexp.MustCompile(`listening on (\S+)\)`))
	base := "http://" + addr
	for _, path := range []string{"/", "/readyz", "/healthz", "/dev/mail"} {
		if code, _ := get(t, base+path); code != 200 {
			t.Errorf("GET %s = %d, want 200", path, code)
		}
	}
	if code, body := get(t, base+"/no/such/page"); code != 404 || !strings.Contains(body, "<main") {
		t.Errorf("unknown path = %d, want the 404 page", code)
	}
	resp, err := http.PostForm(base+"/dev/mail", url.Values{"subject": {"hi"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("POST without CSRF token = %d, want 403", resp.StatusCode)
	}
	out := p.output()
	for _, want := range []string{"Demo logins", "alice", "/dev/mail"} {
		if !strings.Contains(out, want) {
			t.Errorf("dev banner lacks %q", want)
		}
	}
	if code := p.stop(t, os.Interrupt); code != 0 {
		t.Fatalf("exit %d after Ctrl-C, want 0", code)
	}
}
