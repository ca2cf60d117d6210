// Package config reads the program's configuration from environment
// variables. Every option is declared once, in the table in options.go, with
// its default, its meaning and its validator; the README's configuration
// table mirrors it.
package config

import (
	"fmt"
	"net/url"
	"time"
)

// Mode says which subcommand is loading the configuration; defaults and
// requirements differ between a developer's `dev` and production's `serve`.
type Mode int

const (
	// ModeDev is `recoverydesk dev`: everything in one process, safe
	// defaults, a SECRET_KEY generated and kept under DATA_DIR.
	ModeDev Mode = iota
	// ModeServe is `recoverydesk serve`: SECRET_KEY and BASE_URL required.
	ModeServe
	// ModeWorker is `recoverydesk worker`: SECRET_KEY required.
	ModeWorker
	// ModeTool is migrate, seed and other one-shot commands.
	ModeTool
)

// Config is the validated configuration of one process.
type Config struct {
	// DatabaseURL is the PostgreSQL connection URL; empty means discover
	// one (see internal/pgcluster).
	DatabaseURL string
	// HTTPAddr is the address the web server listens on.
	HTTPAddr string
	// BaseURL is the public URL of the site, used in emailed links.
	BaseURL *url.URL
	// SiteName is shown in pages and email subjects.
	SiteName string
	// SecretKey signs tokens, Message-IDs and cookies. At least 32 bytes.
	SecretKey []byte
	// IMAPURL is the support mailbox, e.g. imaps://user:pass@host/INBOX.
	IMAPURL *url.URL
	// SMTPURL is the outbound relay, e.g. smtp+starttls://user:pass@host:587.
	SMTPURL *url.URL
	// SupportAddress is the address requesters write to and mail comes from.
	SupportAddress string
	// DataDir holds uploaded files (DataDir/files) and, in dev, the
	// generated secret key and the private PostgreSQL cluster.
	DataDir string
	// UploadMaxSize is the largest distribution file accepted, in bytes.
	UploadMaxSize int64
	// LogLevel is the minimum slog level.
	LogLevel string
	// LogFormat is "text" or "json".
	LogFormat string
	// ShutdownTimeout bounds how long in-flight requests and jobs may take
	// to finish after SIGINT/SIGTERM.
	ShutdownTimeout time.Duration
	// Workers is the number of River jobs run at once per process.
	Workers int
	// PrivateCluster forces the private PostgreSQL cluster under DataDir
	// even when a server answers (used by tests of the fallback).
	PrivateCluster bool
	// MaxAttachmentBytes bounds the attachments kept from one incoming
	// mail; larger ones are recorded as dropped.
	MaxAttachmentBytes int64
	// TrustedProxies are the addresses (IPs or CIDRs) of reverse proxies
	// whose X-Forwarded-For header names the client; empty trusts none.
	TrustedProxies []string
	// SLARecovery and SLAGeneral are the desk's deadlines per kind of case.
	SLARecovery, SLAGeneral SLA
	// ResetWaitingPeriod is how long an approved 2FA reset waits, so the
	// account's owner can cancel it.
	ResetWaitingPeriod time.Duration
	// Mode is the subcommand this configuration was loaded for.
	Mode Mode
}

// SLA is how long the desk may take on a kind of case.
type SLA struct {
	// FirstResponse is the time from opening to the first public reply.
	FirstResponse time.Duration
	// Resolution is the time from opening to a decision.
	Resolution time.Duration
}

// Error names the environment variable whose value is wrong.
type Error struct {
	Var    string
	Value  string
	Reason string
}

func (e *Error) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("config: %s: %s", e.Var, e.Reason)
	}
	return fmt.Sprintf("config: %s=%q: %s", e.Var, e.Value, e.Reason)
}
