package mailbox

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
)

// Security is how a Sender protects its connection to the relay.
type Security int

const (
	// SecurityOpportunistic (smtp://) upgrades with STARTTLS when the relay
	// offers it and otherwise talks in plaintext.
	SecurityOpportunistic Security = iota
	// SecurityStartTLS (smtp+starttls://) refuses a relay that does not
	// offer STARTTLS.
	SecurityStartTLS
	// SecurityImplicitTLS (smtps://) speaks TLS from the first byte.
	SecurityImplicitTLS
)

// String returns the URL scheme of s.
func (s Security) String() string {
	switch s {
	case SecurityOpportunistic:
		return "smtp"
	case SecurityStartTLS:
		return "smtp+starttls"
	case SecurityImplicitTLS:
		return "smtps"
	default:
		return fmt.Sprintf("Security(%d)", int(s))
	}
}

// SMTPConfig says how to reach the outbound relay. Build it with
// ParseSMTPURL, or by hand in tests.
type SMTPConfig struct {
	Host     string
	Port     int
	Security Security
	// Username and Password, when Username is set, are sent with AUTH
	// PLAIN, which Send refuses to do over plaintext unless Host is a
	// loopback address.
	Username string
	Password string
	// TLS, if set, is used for STARTTLS and implicit TLS (e.g. to trust a
	// private CA); nil means the system roots. ServerName defaults to Host.
	TLS *tls.Config
	// HelloName is the name sent with EHLO; empty means "localhost".
	HelloName string
}

// defaultPorts are the registered ports: relay, submission, submissions.
var defaultPorts = map[Security]int{
	SecurityOpportunistic: 25,
	SecurityStartTLS:      587,
	SecurityImplicitTLS:   465,
}

// ParseSMTPURL parses an SMTP_URL such as
// smtp+starttls://user:password@mail.example.org:587. The schemes are
// smtp:// (opportunistic STARTTLS, port 25), smtp+starttls:// (STARTTLS
// required, port 587) and smtps:// (implicit TLS, port 465).
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	if raw == "" {
		return SMTPConfig{}, errors.New("mailbox: SMTP URL is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error repeats the URL, password included.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return SMTPConfig{}, fmt.Errorf("mailbox: SMTP URL: %w", err)
	}
	return SMTPConfigFromURL(u)
}

// SMTPConfigFromURL is ParseSMTPURL for an already parsed URL.
func SMTPConfigFromURL(u *url.URL) (SMTPConfig, error) {
	var cfg SMTPConfig
	switch u.Scheme {
	case "smtp":
		cfg.Security = SecurityOpportunistic
	case "smtp+starttls":
		cfg.Security = SecurityStartTLS
	case "smtps":
		cfg.Security = SecurityImplicitTLS
	default:
		return cfg, fmt.Errorf("mailbox: SMTP URL: scheme %q is not smtp, smtp+starttls or smtps", u.Scheme)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return cfg, fmt.Errorf("mailbox: SMTP URL: missing host (want %s://host[:port])", u.Scheme)
	}
	cfg.Host = u.Hostname()
	cfg.Port = defaultPorts[cfg.Security]
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return cfg, fmt.Errorf("mailbox: SMTP URL: port %q is not a number from 1 to 65535", p)
		}
		cfg.Port = n
	}
	if u.Path != "" && u.Path != "/" {
		return cfg, fmt.Errorf("mailbox: SMTP URL: unexpected path %q", u.Path)
	}
	if u.RawQuery != "" || u.ForceQuery {
		return cfg, errors.New("mailbox: SMTP URL: query parameters are not supported")
	}
	if u.Fragment != "" {
		return cfg, errors.New("mailbox: SMTP URL: unexpected fragment")
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
		if cfg.Username == "" {
			return cfg, errors.New("mailbox: SMTP URL: password given without a user name")
		}
		if cfg.Password == "" {
			return cfg, fmt.Errorf("mailbox: SMTP URL: user %q has no password", cfg.Username)
		}
	}
	return cfg, nil
}

// Addr returns host:port.
func (c SMTPConfig) Addr() string {
	return net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

// String returns the configuration as a URL with the password redacted,
// safe to log.
func (c SMTPConfig) String() string {
	u := url.URL{Scheme: c.Security.String(), Host: c.Addr()}
	if c.Username != "" {
		u.User = url.UserPassword(c.Username, "xxxxx")
	}
	return u.String()
}
