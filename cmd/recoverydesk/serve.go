package main

import (
	"context"
	"fmt"
	"net"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/internal/config"
	"github.com/recoverydesk/recoverydesk/mailbox"
	"github.com/recoverydesk/recoverydesk/web"
)

func serveCommand() *command {
	return &command{
		name:    "serve",
		summary: "run the web server (production)",
		help: `Serves the web application on HTTP_ADDR. Needs SECRET_KEY and BASE_URL.
Migrations are applied at start (safe with several processes). Run as many
serve processes as needed against one database; put TLS in front.
SIGINT/SIGTERM: stop accepting, let requests finish (SHUTDOWN_TIMEOUT), exit 0.`,
		run: func(ctx context.Context, c *cli, _ any, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected argument %q", args[0])
			}
			rt, err := setup(ctx, c, config.ModeServe, true)
			if err != nil {
				return err
			}
			defer rt.close()
			ln, err := net.Listen("tcp", rt.cfg.HTTPAddr)
			if err != nil {
				return fmt.Errorf("listen on HTTP_ADDR: %w", err)
			}
			app, err := newWebApp(rt, nil, false)
			if err != nil {
				return err
			}
			rt.log.Info("serving", "url", rt.cfg.BaseURL.String(), "addr", ln.Addr().String())
			return web.Serve(ctx, app, ln, rt.cfg.ShutdownTimeout)
		},
	}
}

// newWebApp wires the web layer to the runtime's services.
func newWebApp(rt *runtime, dev *web.DevMail, serverTiming bool) (*fiber.App, error) {
	outbox, err := mailbox.NewOutboxFromConfig(rt.store.Ent, &rt.cfg, rt.log)
	if err != nil {
		return nil, err
	}
	acct, err := account.NewServices(account.ServicesConfig{Store: rt.store, Outbox: outbox, SiteName: rt.cfg.SiteName, BaseURL: rt.cfg.BaseURL})
	if err != nil {
		return nil, err
	}
	signer, err := newSigner(rt)
	if err != nil {
		return nil, err
	}
	intake := desk.NewIntake(rt.store, outbox, signer, acct.Limits, rt.cfg.SiteName, rt.cfg.BaseURL, nil)
	intake.SetSLA(slaPolicy(rt))
	ev := newEvidence(rt, outbox, signer)
	jobsUI, err := newJobsUI(rt)
	if err != nil {
		return nil, err
	}
	reg, err := newRegistry(rt)
	if err != nil {
		return nil, err
	}
	return web.New(web.Deps{
		Config:   rt.cfg,
		Logger:   rt.log,
		Sessions: acct.Sessions,
		Account:  acct,
		Desk:     intake,
		Evidence: ev,
		Triage:   newTriage(rt, outbox, signer, ev),
		Registry: reg,
		Ready:    rt.ready,
		DevMail:  dev,
		JobsUI:   jobsUI,
		// The quarantine page lists and retries what ingestion set
		// aside; it works whether or not this process ingests.
		Quarantine:   &web.Quarantine{Inbound: newInbound(rt, outbox, signer, 0), DB: rt.store.Ent},
		ServerTiming: serverTiming,
	})
}
