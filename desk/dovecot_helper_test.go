package desk_test

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
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// dovecotBinary is where Debian's dovecot-core installs the server.
const dovecotBinary = "/usr/sbin/dovecot"

// dovecotServer is a Dovecot of the test's own: its config, maildir and
// sockets live in a temporary directory, and it listens for IMAP on a free
// loopback port. Killing and restarting it keeps the maildir, as a real
// server crash would.
type dovecotServer struct {
	t        *testing.T
	dir      string
	conf     string
	addr     string
	username string
	password string
	cmd      *exec.Cmd
	done     chan struct{} // closed when cmd has been waited for
}

// startDovecot starts Dovecot, or skips (fails under REQUIRE_DOVECOT=1)
// when it is not installed.
func startDovecot(t *testing.T) *dovecotServer {
	t.Helper()
	if _, err := os.Stat(dovecotBinary); err != nil {
		if os.Getenv("REQUIRE_DOVECOT") == "1" {
			t.Fatalf("REQUIRE_DOVECOT=1 but %s is missing: %v (apt-get install dovecot-imapd)", dovecotBinary, err)
		}
		t.Skipf("SKIPPED: %s not installed (apt-get install dovecot-imapd); the Dovecot ingestion test did not run", dovecotBinary)
	}
	// Not t.TempDir: its parent is private, and Dovecot's own processes
	// run as other users who must reach the passwd file and maildir.
	dir, err := os.MkdirTemp("", "dovecot-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	internal, login, mailUser := dovecotUsers(t)
	mailDir := filepath.Join(dir, "mail")
	for _, d := range []string{mailDir, filepath.Join(dir, "run"), filepath.Join(dir, "state")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(mailDir, mailUser.uid, mailUser.gid); err != nil {
		t.Fatalf("chown maildir to %s: %v", mailUser.name, err)
	}
	s := &dovecotServer{t: t, dir: dir, conf: filepath.Join(dir, "dovecot.conf"),
		addr: freeLoopbackAddr(t), username: unique("support"), password: "s3cret"}
	_, port, _ := net.SplitHostPort(s.addr)
	passwd := filepath.Join(dir, "passwd")
	if err := os.WriteFile(passwd, fmt.Appendf(nil, "%s:{PLAIN}%s::::::\n", s.username, s.password), 0o644); err != nil {
		t.Fatal(err)
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
mail_location = maildir:%[5]s/Maildir
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
`, dir, internal, login, mailUser.uid, mailDir, passwd, mailUser.gid, port)
	if err := os.WriteFile(s.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// Registered first, so a start that fails still kills what it began.
	t.Cleanup(s.kill)
	s.start()
	return s
}

type osUser struct {
	name     string
	uid, gid int
}

// dovecotUsers picks Dovecot's users: as root, the dovecot and dovenull
// users the Debian package creates (Dovecot refuses uid 0 for mail);
// otherwise the current user for everything.
func dovecotUsers(t *testing.T) (internal, login string, mailUser osUser) {
	t.Helper()
	lookup := func(name string) osUser {
		u, err := user.Lookup(name)
		if err != nil {
			t.Fatalf("dovecot needs user %s: %v", name, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return osUser{name: name, uid: uid, gid: gid}
	}
	if os.Getuid() == 0 {
		return "dovecot", "dovenull", lookup("dovecot")
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return me.Username, me.Username, lookup(me.Username)
}

// freeLoopbackAddr returns a loopback address with a port nobody listens
// on right now.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// start runs Dovecot in the foreground in a process group of its own and
// waits until it answers a login.
func (s *dovecotServer) start() {
	s.t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(dovecotBinary, "-F", "-c", s.conf)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start dovecot: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := s.tryLogin()
		if err == nil {
			return
		}
		select {
		case <-done:
			s.t.Fatalf("dovecot exited: %s\n%s", out.String(), s.log())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("dovecot not answering on %s: %v\n%s", s.addr, err, s.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *dovecotServer) tryLogin() error {
	c, err := imapclient.DialInsecure(s.addr, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Login(s.username, s.password).Wait()
}

// kill SIGKILLs the whole process group (master, login and imap
// processes) and waits for the master to be gone.
func (s *dovecotServer) kill() {
	if s.cmd == nil {
		return
	}
	if err := syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		s.t.Errorf("kill dovecot: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.t.Error("dovecot did not die within 10s of SIGKILL")
	}
	s.cmd = nil
}

// restart kills Dovecot and starts it again on the same port and maildir.
func (s *dovecotServer) restart() {
	s.kill()
	s.start()
}

func (s *dovecotServer) log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "dovecot.log"))
	return string(b)
}

// URL is the IMAP_URL of the test user's INBOX.
func (s *dovecotServer) URL() *url.URL {
	return &url.URL{Scheme: "imap", User: url.UserPassword(s.username, s.password), Host: s.addr, Path: "/INBOX"}
}
