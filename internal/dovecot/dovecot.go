// Package dovecot runs a private Dovecot IMAP server from Debian's
// dovecot-imapd package: its config, maildir and sockets in a directory of
// its own, listening on a free loopback port. The ingestion tests and
// `recoverydesk bench ingest --dovecot` use it as the real server mail
// arrives on. Killing and restarting it keeps the maildir, as a real
// server crash would.
package dovecot

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// Binary is where Debian's dovecot-core installs the server.
const Binary = "/usr/sbin/dovecot"

// ErrNotInstalled is returned by Start when Binary is missing.
var ErrNotInstalled = errors.New("dovecot: " + Binary + " is not installed (apt-get install dovecot-imapd)")

// Options configure Start.
type Options struct {
	Username, Password string
	// Dir is where its directory is made (default os.TempDir()); a
	// benchmark puts it on a RAM disk such as /dev/shm.
	Dir string
	// Mdbox stores mail in mdbox files instead of a maildir (a file per
	// message), which is faster for large mailboxes.
	Mdbox bool
}

// Server is one running private Dovecot with one user.
type Server struct {
	mdbox    bool
	dir      string
	conf     string
	addr     string
	username string
	password string
	cmd      *exec.Cmd
	out      *bytes.Buffer
	done     chan struct{} // closed when cmd has been waited for
}

// Start configures and starts Dovecot for one user in a new directory, and
// waits until it answers a login. Close removes everything again.
func Start(o Options) (*Server, error) {
	if _, err := os.Stat(Binary); err != nil {
		return nil, ErrNotInstalled
	}
	// Not a private temporary directory: Dovecot's own processes run as
	// other users who must reach the passwd file and maildir.
	dir, err := os.MkdirTemp(o.Dir, "dovecot-")
	if err != nil {
		return nil, fmt.Errorf("dovecot: %w", err)
	}
	s := &Server{dir: dir, conf: filepath.Join(dir, "dovecot.conf"), username: o.Username, password: o.Password, mdbox: o.Mdbox}
	if err := s.configure(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := s.start(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) configure() error {
	if err := os.Chmod(s.dir, 0o755); err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	internal, login, mailUser, err := users()
	if err != nil {
		return err
	}
	mailDir := filepath.Join(s.dir, "mail")
	for _, d := range []string{mailDir, filepath.Join(s.dir, "run"), filepath.Join(s.dir, "state")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("dovecot: %w", err)
		}
	}
	if err := os.Chown(mailDir, mailUser.uid, mailUser.gid); err != nil {
		return fmt.Errorf("dovecot: chown maildir to %s: %w", mailUser.name, err)
	}
	if s.addr, err = freeLoopbackAddr(); err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(s.addr)
	location := "maildir:" + mailDir + "/Maildir"
	if s.mdbox {
		location = "mdbox:" + mailDir + "/mdbox"
	}
	passwd := filepath.Join(s.dir, "passwd")
	if err := os.WriteFile(passwd, fmt.Appendf(nil, "%s:{PLAIN}%s::::::\n", s.username, s.password), 0o644); err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	conf := fmt.Sprintf(`protocols = imap
listen = 127.0.0.1
base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
info_log_path = %[1]s/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = %[2]s
default_login_user = %[3]s
first_valid_uid = %[4]d
mail_location = %[9]s
passdb {
  driver = passwd-file
  args = scheme=PLAIN %[6]s
}
userdb {
  driver = static
  args = uid=%[4]d gid=%[7]d home=%[5]s
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = %[8]s
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
`, s.dir, internal, login, mailUser.uid, mailDir, passwd, mailUser.gid, port, location)
	if err := os.WriteFile(s.conf, []byte(conf), 0o644); err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	return nil
}

type osUser struct {
	name     string
	uid, gid int
}

// users picks Dovecot's users: as root, the dovecot and dovenull users the
// Debian package creates (Dovecot refuses uid 0 for mail); otherwise the
// current user for everything.
func users() (internal, login string, mailUser osUser, err error) {
	lookup := func(name string) (osUser, error) {
		u, err := user.Lookup(name)
		if err != nil {
			return osUser{}, fmt.Errorf("dovecot needs user %s: %w", name, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return osUser{name: name, uid: uid, gid: gid}, nil
	}
	if os.Getuid() == 0 {
		mailUser, err = lookup("dovecot")
		return "dovecot", "dovenull", mailUser, err
	}
	me, err := user.Current()
	if err != nil {
		return "", "", osUser{}, fmt.Errorf("dovecot: %w", err)
	}
	mailUser, err = lookup(me.Username)
	return me.Username, me.Username, mailUser, err
}

// freeLoopbackAddr returns a loopback address with a port nobody listens
// on right now.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("dovecot: find a free port: %w", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr, nil
}

// start runs Dovecot in the foreground in a process group of its own and
// waits until it answers a login.
func (s *Server) start() error {
	s.out = &bytes.Buffer{}
	cmd := exec.Command(Binary, "-F", "-c", s.conf)
	cmd.Stdout, cmd.Stderr = s.out, s.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("dovecot: start: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := s.tryLogin()
		if err == nil {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("dovecot exited: %s\n%s", s.out, s.Log())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("dovecot not answering on %s: %w\n%s", s.addr, err, s.Log())
		}
		// Polling for the listener: Dovecot offers no readiness signal.
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Server) tryLogin() error {
	c, err := imapclient.DialInsecure(s.addr, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Login(s.username, s.password).Wait()
}

// Kill SIGKILLs the whole process group (master, login and imap
// processes) and waits for the master to be gone.
func (s *Server) Kill() error {
	if s.cmd == nil {
		return nil
	}
	if err := syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("dovecot: kill: %w", err)
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		return errors.New("dovecot did not die within 10s of SIGKILL")
	}
	s.cmd = nil
	return nil
}

// Restart kills Dovecot and starts it again on the same port and maildir.
func (s *Server) Restart() error {
	if err := s.Kill(); err != nil {
		return err
	}
	return s.start()
}

// Close kills Dovecot and removes its directory.
func (s *Server) Close() {
	_ = s.Kill()
	_ = os.RemoveAll(s.dir)
}

// Log is Dovecot's log so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "dovecot.log"))
	return string(b)
}

// URL is the IMAP_URL of the user's INBOX.
func (s *Server) URL() *url.URL {
	return &url.URL{Scheme: "imap", User: url.UserPassword(s.username, s.password), Host: s.addr, Path: "/INBOX"}
}
