package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
)

// Cluster is a private PostgreSQL cluster in a directory of ours: data in
// Dir/data, the Unix socket in Dir/run (no TCP listener, so nothing else on
// the machine can reach it), the server log in Dir/postgres.log.
type Cluster struct {
	Dir    string
	bin    string
	cred   *syscall.Credential
	logger *slog.Logger
}

// Start initialises the cluster on first use and starts it, unless it is
// already running (then it is reused and still stopped by Stop). binDir
// holds initdb and pg_ctl; empty means search for them. When the
// process runs as root the server runs as the "postgres" OS user, since
// PostgreSQL refuses to run as root.
func Start(ctx context.Context, dir, binDir string, logger *slog.Logger) (*Cluster, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	bin, err := findBinaries(binDir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: abs, bin: bin, logger: logger}
	if os.Geteuid() == 0 {
		if c.cred, err = postgresUser(); err != nil {
			return nil, err
		}
	}
	if err := c.prepareDirs(); err != nil {
		return nil, err
	}
	// Several processes (test packages, a dev server) may start at once:
	// one initialises and starts, the others then find it running.
	unlock, err := lockFile(filepath.Join(c.Dir, "start.lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); errors.Is(err, fs.ErrNotExist) {
		logger.Info("initialising private PostgreSQL cluster", "dir", c.dataDir())
		if err := c.run(ctx, "initdb", "-D", c.dataDir(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"); err != nil {
			return nil, err
		}
	}
	if c.running(ctx) {
		logger.Info("private PostgreSQL cluster already running", "dir", c.Dir)
		return c, nil
	}
	opts := fmt.Sprintf("-c listen_addresses='' -k %s", c.socketDir())
	if err := c.run(ctx, "pg_ctl", "start", "-w", "-t", "60", "-D", c.dataDir(), "-l", filepath.Join(c.Dir, "postgres.log"), "-o", opts); err != nil {
		return nil, err
	}
	logger.Info("private PostgreSQL cluster started", "socket", c.socketDir())
	return c, nil
}

// URL connects to database on this cluster over its Unix socket.
func (c *Cluster) URL(database string) string {
	q := url.Values{"host": {c.socketDir()}, "sslmode": {"disable"}}
	return (&url.URL{Scheme: "postgres", User: url.User("postgres"), Host: "", Path: "/" + database, RawQuery: q.Encode()}).String()
}

// Stop shuts the server down (fast mode: open sessions are ended).
func (c *Cluster) Stop(ctx context.Context) error {
	if !c.running(ctx) {
		return nil
	}
	if err := c.run(ctx, "pg_ctl", "stop", "-w", "-m", "fast", "-D", c.dataDir()); err != nil {
		return err
	}
	c.logger.Info("private PostgreSQL cluster stopped", "dir", c.Dir)
	return nil
}

// Running reports whether the server is up.
func (c *Cluster) Running(ctx context.Context) bool { return c.running(ctx) }

func (c *Cluster) dataDir() string   { return filepath.Join(c.Dir, "data") }
func (c *Cluster) socketDir() string { return filepath.Join(c.Dir, "run") }

func (c *Cluster) running(ctx context.Context) bool {
	// pg_ctl status exits 0 when running, 3 when not.
	return c.run(ctx, "pg_ctl", "status", "-D", c.dataDir()) == nil
}

func (c *Cluster) prepareDirs() error {
	for _, d := range []string{c.Dir, c.socketDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("pgcluster: create %s: %w", d, err)
		}
		if c.cred != nil {
			if err := os.Chown(d, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
				return fmt.Errorf("pgcluster: chown %s: %w", d, err)
			}
		}
	}
	if c.cred != nil {
		// The postgres user must be able to reach Dir through its parents.
		for p := filepath.Dir(c.Dir); p != "/"; p = filepath.Dir(p) {
			info, err := os.Stat(p)
			if err != nil {
				return fmt.Errorf("pgcluster: %w", err)
			}
			if info.Mode().Perm()&0o001 == 0 {
				return fmt.Errorf("pgcluster: the postgres user cannot enter %s (mode %v); use a data directory it can reach", p, info.Mode().Perm())
			}
		}
	}
	return nil
}

func (c *Cluster) run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Dir = c.Dir
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
		cmd.Env = append(os.Environ(), "HOME="+c.Dir)
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pgcluster: %s %v: %w: %s", name, args, err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// findBinaries looks for initdb and pg_ctl on PATH, then in Debian's
// versioned directories (newest first).
func findBinaries(binDir string) (string, error) {
	if binDir != "" {
		if _, err := os.Stat(filepath.Join(binDir, "initdb")); err != nil {
			return "", ErrNoServer
		}
		return binDir, nil
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		return versionOf(b) - versionOf(a)
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", ErrNoServer
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: open lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("pgcluster: lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgcluster: running as root needs a \"postgres\" OS user to run the server: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}
