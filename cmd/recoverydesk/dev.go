package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/recoverydesk/recoverydesk/internal/config"
	"github.com/recoverydesk/recoverydesk/internal/seed"
	"github.com/recoverydesk/recoverydesk/mailbox/devmail"
	"github.com/recoverydesk/recoverydesk/web"
)

type devOptions struct {
	smtpAddr string
	imapAddr string
	noSeed   bool
}

func devCommand() *command {
	return &command{
		name:    "dev",
		summary: "run everything in one process for development",
		help: `Runs the web server, the River workers, an in-process IMAP server holding
the support mailbox and an in-process SMTP server capturing every mail the
system sends, all in one process. /dev/mail shows the captured mail and
writes mail "from outside" into the support mailbox. IMAP_URL and SMTP_URL
are ignored: the in-process servers are used.
Finds or starts PostgreSQL, applies migrations, loads the demo data and
prints the URL and the demo logins. SECRET_KEY, when unset, is generated
once and kept in DATA_DIR/secret_key.`,
		flags: func(fs *flag.FlagSet) any {
			o := &devOptions{}
			fs.StringVar(&o.smtpAddr, "smtp-addr", "127.0.0.1:2525", "address of the in-process SMTP sink")
			fs.StringVar(&o.imapAddr, "imap-addr", "127.0.0.1:1143", "address of the in-process IMAP server")
			fs.BoolVar(&o.noSeed, "no-seed", false, "do not load the demo data")
			return o
		},
		run: func(ctx context.Context, c *cli, opts any, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected argument %q", args[0])
			}
			return runDev(ctx, c, opts.(*devOptions))
		},
	}
}

func runDev(ctx context.Context, c *cli, o *devOptions) (err error) {
	rt, err := setup(ctx, c, config.ModeDev, true)
	if err != nil {
		return err
	}
	defer rt.close()

	sink := devmail.NewSink(rt.log, 500)
	if _, err := sink.Start(o.smtpAddr); err != nil {
		return fmt.Errorf("dev SMTP sink on %s (change it with --smtp-addr): %w", o.smtpAddr, err)
	}
	defer sink.Close()
	inbox := devmail.NewMailbox(rt.log, "support", "support-dev")
	if _, err := inbox.Start(o.imapAddr); err != nil {
		return fmt.Errorf("dev IMAP server on %s (change it with --imap-addr): %w", o.imapAddr, err)
	}
	defer inbox.Close()
	rt.cfg.SMTPURL = sink.URL()
	rt.cfg.IMAPURL = inbox.URL()

	var logins seed.Logins
	if !o.noSeed {
		if logins, _, err = seed.Demo(ctx, rt.store, time.Now()); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}

	jobs, err := startWorkers(ctx, rt)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopWorkers(rt, jobs)) }()
	stopIngestion, err := startIngestion(ctx, rt)
	if err != nil {
		return err
	}
	defer stopIngestion()

	ln, err := net.Listen("tcp", rt.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on HTTP_ADDR: %w", err)
	}
	app, err := newWebApp(rt, &web.DevMail{Sink: sink, Mailbox: inbox, SupportAddress: rt.cfg.SupportAddress}, false)
	if err != nil {
		ln.Close()
		return err
	}
	printDevBanner(c, rt, ln.Addr().String(), sink, inbox, logins)
	return web.Serve(ctx, app, ln, rt.cfg.ShutdownTimeout)
}

func printDevBanner(c *cli, rt *runtime, addr string, sink *devmail.Sink, inbox *devmail.Mailbox, logins seed.Logins) {
	base := rt.cfg.BaseURL.String()
	imapURL := *inbox.URL()
	imapURL.User = url.User(inbox.Username())
	fmt.Fprintf(c.stdout, "\nRecovery Desk is running at %s (listening on %s)\n", base, addr)
	fmt.Fprintf(c.stdout, "  Mail:     %s/dev/mail  (SMTP sink %s; support mailbox %s, password %s)\n", base, sink.Addr(), imapURL.String(), inbox.Password())
	fmt.Fprintf(c.stdout, "  Desk:     %s/desk  (support staff: sign in as sam or ada)\n", base)
	fmt.Fprintf(c.stdout, "  Health:   %s/readyz\n", base)
	if len(logins.Accounts) > 0 {
		printLogins(c.stdout, logins, false)
	}
	fmt.Fprintln(c.stdout, "\nPress Ctrl-C to stop.")
}
