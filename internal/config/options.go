package config

import (
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Option describes one environment variable: the README's configuration
// table is this list.
type Option struct {
	// Name is the environment variable.
	Name string
	// Default is used when the variable is unset or empty; "" means none.
	Default string
	// Help says what the variable means.
	Help string
	// RequiredIn lists the modes that refuse to start without it.
	RequiredIn []Mode
	set        func(c *Config, v string) error
}

// Options returns the table of every variable the program reads, in the
// order the README lists them.
func Options() []Option {
	return []Option{
		{Name: "DATABASE_URL", Help: "PostgreSQL URL. Unset: postgres://localhost:5432, else a private cluster under DATA_DIR/postgres if PostgreSQL's binaries are installed.",
			set: func(c *Config, v string) error {
				if v == "" {
					return nil
				}
				u, err := url.Parse(v)
				if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
					return fmt.Errorf("must be a postgres:// URL")
				}
				c.DatabaseURL = v
				return nil
			}},
		{Name: "HTTP_ADDR", Default: "127.0.0.1:8080", Help: "Address the web server listens on.",
			set: func(c *Config, v string) error {
				host, port, err := splitHostPort(v)
				if err != nil {
					return err
				}
				c.HTTPAddr = host + ":" + port
				return nil
			}},
		{Name: "BASE_URL", Help: "Public URL of the site, used in emailed links. Default: http://HTTP_ADDR, with localhost for a loopback address (browsers refuse security keys on an IP address).", RequiredIn: []Mode{ModeServe, ModeWorker},
			set: func(c *Config, v string) error {
				if v == "" {
					v = "http://" + c.HTTPAddr
					if host, port, _ := splitHostPort(c.HTTPAddr); host == "127.0.0.1" || host == "::1" || host == "[::1]" || host == "localhost" {
						v = "http://localhost:" + port
					}
				}
				u, err := url.Parse(v)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					return fmt.Errorf("must be an absolute http:// or https:// URL")
				}
				u.Path = strings.TrimSuffix(u.Path, "/")
				c.BaseURL = u
				return nil
			}},
		{Name: "SITE_NAME", Default: "Recovery Desk", Help: "Name shown in pages and in email subjects.",
			set: func(c *Config, v string) error {
				if len(v) > 80 || strings.ContainsAny(v, "\r\n") {
					return fmt.Errorf("must be one line of at most 80 characters")
				}
				c.SiteName = v
				return nil
			}},
		{Name: "SECRET_KEY", Help: "At least 32 characters; signs tokens, cookies and Message-IDs. dev generates one in DATA_DIR/secret_key.", RequiredIn: []Mode{ModeServe, ModeWorker},
			set: func(c *Config, v string) error {
				if v == "" {
					return nil
				}
				if len(v) < 32 {
					return fmt.Errorf("must be at least 32 characters (try: openssl rand -hex 32)")
				}
				c.SecretKey = []byte(v)
				return nil
			}},
		{Name: "IMAP_URL", Help: "Support mailbox: imap:// or imaps://user:password@host[:port]/MAILBOX. dev runs an in-process server; unset elsewhere disables ingestion.",
			set: func(c *Config, v string) error {
				u, err := parseMailURL(v, "imap", "imaps")
				c.IMAPURL = u
				return err
			}},
		{Name: "SMTP_URL", Help: "Outbound relay: smtp://, smtp+starttls:// or smtps://[user:password@]host[:port]. dev runs an in-process sink.", RequiredIn: []Mode{ModeWorker},
			set: func(c *Config, v string) error {
				u, err := parseMailURL(v, "smtp", "smtp+starttls", "smtps")
				c.SMTPURL = u
				return err
			}},
		{Name: "SUPPORT_ADDRESS", Default: "support@recoverydesk.test", Help: "Address requesters write to; outgoing mail is sent from it.",
			set: func(c *Config, v string) error {
				a, err := mail.ParseAddress(v)
				if err != nil || a.Name != "" {
					return fmt.Errorf("must be a bare email address like support@example.org")
				}
				c.SupportAddress = a.Address
				return nil
			}},
		{Name: "TRUSTED_PROXIES", Help: "Comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For names the client (for rate limits and security events). Empty: the socket address is the client.",
			set: func(c *Config, v string) error {
				for _, p := range strings.Split(v, ",") {
					p = strings.TrimSpace(p)
					if p == "" {
						continue
					}
					if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
						return fmt.Errorf("%q is not an IP address or CIDR", p)
					}
					c.TrustedProxies = append(c.TrustedProxies, p)
				}
				return nil
			}},
		{Name: "MAX_ATTACHMENT_BYTES", Default: "26214400", Help: "Attachments kept from one incoming mail, in bytes (default 25 MiB); larger ones are listed as dropped on the case.",
			set: func(c *Config, v string) error {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n < 0 || n > 1<<30 {
					return fmt.Errorf("must be a number of bytes from 0 to 1073741824")
				}
				c.MaxAttachmentBytes = n
				return nil
			}},
		{Name: "UPLOAD_MAX_SIZE", Default: "100MiB", Help: "Largest distribution file the upload endpoint (/legacy/) accepts: bytes, or a number with KiB, MiB, GiB (or KB, MB, GB).",
			set: func(c *Config, v string) error {
				n, err := parseSize(v)
				if err != nil || n < 1 || n > maxUploadSize {
					return fmt.Errorf("must be a size from 1 byte to 10GiB, like 100MiB or 104857600")
				}
				c.UploadMaxSize = n
				return nil
			}},
		{Name: "DATA_DIR", Default: ".data", Help: "Directory for local state: uploaded files (DATA_DIR/files), and in dev the generated secret key and the private PostgreSQL cluster.",
			set: func(c *Config, v string) error { c.DataDir = v; return nil }},
		{Name: "LOG_LEVEL", Default: "info", Help: "debug, info, warn or error.",
			set: func(c *Config, v string) error {
				var l slog.Level
				if err := l.UnmarshalText([]byte(v)); err != nil {
					return fmt.Errorf("must be debug, info, warn or error")
				}
				c.LogLevel = strings.ToLower(v)
				return nil
			}},
		{Name: "LOG_FORMAT", Default: "text", Help: "text or json.",
			set: func(c *Config, v string) error {
				if v != "text" && v != "json" {
					return fmt.Errorf("must be text or json")
				}
				c.LogFormat = v
				return nil
			}},
		{Name: "SHUTDOWN_TIMEOUT", Default: "30s", Help: "How long in-flight requests and jobs may run after SIGINT/SIGTERM.",
			set: func(c *Config, v string) error {
				d, err := time.ParseDuration(v)
				if err != nil || d <= 0 {
					return fmt.Errorf("must be a positive duration like 30s")
				}
				c.ShutdownTimeout = d
				return nil
			}},
		{Name: "WORKERS", Default: "10", Help: "River jobs run at once per process.",
			set: func(c *Config, v string) error {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > 1000 {
					return fmt.Errorf("must be a whole number from 1 to 1000")
				}
				c.Workers = n
				return nil
			}},
		{Name: "SLA_RECOVERY", Default: "24h/120h", Help: "Desk SLA of recovery cases: time to the first reply / to resolution.",
			set: func(c *Config, v string) error {
				sla, err := parseSLA(v)
				c.SLARecovery = sla
				return err
			}},
		{Name: "SLA_GENERAL", Default: "48h/240h", Help: "Desk SLA of general support cases: time to the first reply / to resolution.",
			set: func(c *Config, v string) error {
				sla, err := parseSLA(v)
				c.SLAGeneral = sla
				return err
			}},
		{Name: "RESET_WAITING_PERIOD", Default: "72h", Help: "Time between an approved 2FA reset and its execution, during which the owner can cancel it. An admin may shorten it to 0 when there is proof of control.",
			set: func(c *Config, v string) error {
				d, err := time.ParseDuration(v)
				if err != nil || d < 0 || d > 30*24*time.Hour {
					return fmt.Errorf("must be a duration from 0s to 720h, like 72h")
				}
				c.ResetWaitingPeriod = d
				return nil
			}},
		{Name: "PRIVATE_CLUSTER", Default: "false", Help: "true: always use the private PostgreSQL cluster under DATA_DIR/postgres (tests of the fallback).",
			set: func(c *Config, v string) error {
				b, err := strconv.ParseBool(v)
				if err != nil {
					return fmt.Errorf("must be true or false")
				}
				c.PrivateCluster = b
				return nil
			}},
	}
}

// parseSLA reads "FIRST/RESOLUTION", two positive durations, the first not
// longer than the second.
func parseSLA(v string) (SLA, error) {
	first, resolution, ok := strings.Cut(v, "/")
	f, err1 := time.ParseDuration(strings.TrimSpace(first))
	r, err2 := time.ParseDuration(strings.TrimSpace(resolution))
	if !ok || err1 != nil || err2 != nil || f <= 0 || r <= 0 {
		return SLA{}, fmt.Errorf("must be two positive durations, first reply/resolution, like 24h/120h")
	}
	if f > r {
		return SLA{}, fmt.Errorf("the first-reply time must not exceed the resolution time")
	}
	return SLA{FirstResponse: f, Resolution: r}, nil
}

func splitHostPort(v string) (string, string, error) {
	i := strings.LastIndex(v, ":")
	if i < 0 {
		return "", "", fmt.Errorf("must be host:port, e.g. 127.0.0.1:8080")
	}
	host, port := v[:i], v[i+1:]
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return "", "", fmt.Errorf("port must be a number from 0 to 65535")
	}
	return host, port, nil
}

func parseMailURL(v string, schemes ...string) (*url.URL, error) {
	if v == "" {
		return nil, nil
	}
	u, err := url.Parse(v)
	if err != nil {
		return nil, fmt.Errorf("not a URL: %v", err)
	}
	for _, s := range schemes {
		if u.Scheme == s {
			if u.Hostname() == "" {
				return nil, fmt.Errorf("needs a host")
			}
			return u, nil
		}
	}
	return nil, fmt.Errorf("scheme must be one of %s", strings.Join(schemes, ", "))
}
