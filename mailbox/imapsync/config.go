package imapsync

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"
)

// Defaults for the zero fields of Config.
const (
	DefaultPollInterval = 30 * time.Second
	DefaultBatchSize    = 100
	DefaultLeaseTTL     = time.Minute
	DefaultBackoffMin   = time.Second
	DefaultBackoffMax   = 5 * time.Minute
)

// Config says which mailbox a Syncer fetches and how.
type Config struct {
	// URL is IMAP_URL: imap:// (plain, for local servers) or imaps://
	// (TLS), with user and password; the path names the mailbox (default
	// INBOX).
	URL *url.URL
	// PollInterval is how often to look for new mail on a server without
	// IDLE; with IDLE it is the interval of a safety-net re-check.
	PollInterval time.Duration
	// BatchSize is how many messages one UID FETCH asks for.
	BatchSize int
	// LeaseTTL is how long a lease lasts unless renewed; it is renewed
	// every third of it.
	LeaseTTL time.Duration
	// Owner names this worker in the lease, e.g. hostname-pid-random.
	Owner string
	// Logger receives progress and errors; nil discards them.
	Logger *slog.Logger
	// Backoff bounds the wait before reconnecting after a failure; it
	// doubles from Min to Max, with jitter.
	Backoff struct{ Min, Max time.Duration }
}

// withDefaults returns cfg with zero fields defaulted, or an error naming
// the first bad field.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.URL == nil {
		return cfg, errors.New("imapsync: Config.URL is required")
	}
	if cfg.Owner == "" {
		return cfg, errors.New("imapsync: Config.Owner is required")
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.Backoff.Min <= 0 {
		cfg.Backoff.Min = DefaultBackoffMin
	}
	if cfg.Backoff.Max <= 0 {
		cfg.Backoff.Max = DefaultBackoffMax
	}
	if cfg.Backoff.Max < cfg.Backoff.Min {
		cfg.Backoff.Max = cfg.Backoff.Min
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, nil
}

// target is a parsed IMAP_URL.
type target struct {
	tls                bool
	addr               string // host:port
	serverName         string // for TLS verification
	username, password string
	mailbox            string
}

// key names the mailbox in the checkpoint table and in Fetched.Mailbox:
// user, server and mailbox, so two mailboxes never share a checkpoint.
func (t target) key() string {
	return t.username + "@" + t.addr + "/" + t.mailbox
}

func parseURL(u *url.URL) (target, error) {
	var t target
	if u == nil {
		return t, errors.New("imapsync: no IMAP URL")
	}
	port := ""
	switch strings.ToLower(u.Scheme) {
	case "imap":
		port = "143"
	case "imaps":
		t.tls, port = true, "993"
	default:
		return t, fmt.Errorf("imapsync: IMAP URL scheme %q: want imap or imaps", u.Scheme)
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return t, errors.New("imapsync: IMAP URL has no host")
	}
	if p := u.Port(); p != "" {
		port = p
	}
	t.addr, t.serverName = net.JoinHostPort(host, port), host
	if u.User == nil || u.User.Username() == "" {
		return t, errors.New("imapsync: IMAP URL has no user name")
	}
	t.username = u.User.Username()
	t.password, _ = u.User.Password()
	t.mailbox = strings.Trim(u.Path, "/")
	if t.mailbox == "" {
		t.mailbox = "INBOX"
	}
	return t, nil
}

// isLoopback says whether host names this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
