package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/microcosm-cc/bluemonday"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/internal/config"
	"github.com/recoverydesk/recoverydesk/mailbox"
	"github.com/recoverydesk/recoverydesk/mailbox/devmail"
	"github.com/recoverydesk/recoverydesk/registry"
)

// SessionStore finds and ends the session of a session cookie's token.
// Lookup returns account.ErrSessionNotFound for an unknown, expired or
// revoked token; Revoke of an unknown token is not an error.
type SessionStore interface {
	Lookup(ctx context.Context, token string) (*account.Session, error)
	Revoke(ctx context.Context, token string) error
}

// Deps is everything the web layer needs from the rest of the program.
type Deps struct {
	Config   config.Config
	Logger   *slog.Logger
	Sessions SessionStore
	// Account is sign-up, sign-in and the security page.
	Account *account.Services
	// Desk is the public recovery form and the requester's status page;
	// nil leaves those pages out (404), for tests that do not need them.
	Desk *desk.Intake
	// Evidence is the staff case pages and the email challenge links; nil
	// leaves those pages out (404), like Desk.
	Evidence *desk.Evidence
	// Triage is the staff desk: the queue, case actions, decisions and
	// the reset cancel links; nil leaves those pages out (404), like Desk.
	Triage *desk.Triage
	// Registry receives package uploads at PathUpload; nil leaves the
	// endpoint out (404), like Desk.
	Registry *registry.Service
	// JobsUI is River's web UI, mounted at /admin/jobs for admins; nil
	// leaves it out (404).
	JobsUI http.Handler
	// Quarantine backs the admin page of mail ingestion could not store;
	// nil leaves it out (404).
	Quarantine *Quarantine
	// Ready reports whether the database is reachable and migrations are
	// applied; /readyz answers 503 while it returns an error.
	Ready func(ctx context.Context) error
	// DevMail enables the /dev/mail pages. Nil outside dev, where those
	// paths answer 404.
	DevMail *DevMail
	// ServerTiming adds a Server-Timing header ("app;dur=" milliseconds)
	// to every answer: how long the app took, without the network, for
	// load benchmarks (`recoverydesk bench http`). Off in production,
	// where it would only tell clients about the server.
	ServerTiming bool
	// Extra registers additional routes after the middleware and before
	// the final 404 handler. It exists for tests only (a panicking or slow
	// route); production code adds routes in routes.go.
	Extra func(r fiber.Router)
}

// DevMail is the in-process mail of `recoverydesk dev`: the sink that
// captures every outgoing mail and the IMAP mailbox that holds the
// support inbox.
type DevMail struct {
	Sink           *devmail.Sink
	Mailbox        *devmail.Mailbox
	SupportAddress string
}

// Quarantine is what the quarantine admin page needs: the ingestion that
// retries and discards, and the database it lists from (desk.Inbound does
// not expose its client).
type Quarantine struct {
	Inbound *desk.Inbound
	DB      *ent.Client
}

// handler carries what every handler and middleware needs; all of them
// are its methods.
type handler struct {
	cfg      config.Config
	log      *slog.Logger
	sessions SessionStore
	acct     *account.Services
	desk     *desk.Intake
	ev       *desk.Evidence
	tr       *desk.Triage
	reg      *registry.Service
	jobsUI   http.Handler
	quar     *Quarantine
	ready    func(ctx context.Context) error
	dev      *DevMail
	assets   *assets
	csrf     signer
	flash    signer
	// mailHTML sanitises the HTML part of captured mail for display.
	mailHTML *bluemonday.Policy
	// secure says whether cookies get the Secure attribute (https site).
	secure bool
	// proxies are TRUSTED_PROXIES, for clientIP.
	proxies []netip.Prefix
	now     func() time.Time
}

// New builds the Fiber app with all routes and middleware. It does not
// listen; pass it to Serve.
func New(d Deps) (*fiber.App, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	as, err := loadAssets()
	if err != nil {
		return nil, fmt.Errorf("web: load static assets: %w", err)
	}
	h := &handler{
		cfg:      d.Config,
		log:      d.Logger,
		sessions: d.Sessions,
		acct:     d.Account,
		desk:     d.Desk,
		ev:       d.Evidence,
		tr:       d.Triage,
		reg:      d.Registry,
		jobsUI:   d.JobsUI,
		quar:     d.Quarantine,
		ready:    d.Ready,
		dev:      d.DevMail,
		assets:   as,
		csrf:     newSigner(d.Config.SecretKey, "csrf"),
		flash:    newSigner(d.Config.SecretKey, "flash"),
		mailHTML: mailbox.HTMLPolicy(),
		secure:   d.Config.BaseURL != nil && d.Config.BaseURL.Scheme == "https",
		proxies:  parseProxies(d.Config.TrustedProxies),
		now:      time.Now,
	}
	app := fiber.New(fiber.Config{
		AppName:               d.Config.SiteName,
		ErrorHandler:          h.handleError,
		DisableStartupMessage: true,
		// Timeouts bound slow or idle clients, so neither they nor a
		// graceful shutdown wait on a connection forever.
		ReadTimeout:  30 * time.Second,
		WriteTimeout: 60 * time.Second,
		IdleTimeout:  90 * time.Second,
		// X-Forwarded-Host and -Proto count only from a trusted proxy;
		// the client's address is clientIP's business.
		EnableTrustedProxyCheck: len(d.Config.TrustedProxies) > 0,
		TrustedProxies:          d.Config.TrustedProxies,
		// Room for the status page's files and for package uploads;
		// limitBodies holds every other route to the default 4 MiB.
		BodyLimit: bodyLimit(d.Registry),
	})
	if d.ServerTiming {
		app.Use(serverTiming)
	}
	app.Use(limitBodies)
	h.routes(app, d.Extra)
	return app, nil
}

// serverTiming reports the time the app spent on a request in the
// Server-Timing header. It runs first, so it covers every middleware;
// errors are answered inside requestLog, so its time includes them.
func serverTiming(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	c.Set("Server-Timing", fmt.Sprintf("app;dur=%.3f", float64(time.Since(start).Microseconds())/1000))
	return err
}

func (d Deps) validate() error {
	var errs []error
	if d.Logger == nil {
		errs = append(errs, errors.New("Logger is nil"))
	}
	if d.Sessions == nil {
		errs = append(errs, errors.New("Sessions is nil"))
	}
	if d.Account == nil {
		errs = append(errs, errors.New("Account is nil"))
	}
	if d.Ready == nil {
		errs = append(errs, errors.New("Ready is nil"))
	}
	if len(d.Config.SecretKey) < 32 {
		errs = append(errs, errors.New("Config.SecretKey is shorter than 32 bytes"))
	}
	if d.Config.BaseURL == nil {
		errs = append(errs, errors.New("Config.BaseURL is nil"))
	}
	if d.DevMail != nil {
		// The dev mail pages show every outgoing mail, reset links
		// included: they must never be reachable in production.
		if d.Config.Mode != config.ModeDev {
			errs = append(errs, errors.New("DevMail is set outside dev mode"))
		}
		if d.DevMail.Sink == nil || d.DevMail.Mailbox == nil {
			errs = append(errs, errors.New("DevMail needs both Sink and Mailbox"))
		}
	}
	if d.Quarantine != nil && (d.Quarantine.Inbound == nil || d.Quarantine.DB == nil) {
		errs = append(errs, errors.New("Quarantine needs both Inbound and DB"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("web: invalid deps: %w", err)
	}
	return nil
}
