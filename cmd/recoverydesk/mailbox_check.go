package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/recoverydesk/recoverydesk/internal/config"
	"github.com/recoverydesk/recoverydesk/mailbox"
	"github.com/recoverydesk/recoverydesk/mailbox/imapsync"
)

// mailboxCheckTimeout bounds each connection check, so a server that
// accepts and then says nothing does not hang the command.
const mailboxCheckTimeout = 30 * time.Second

func mailboxCommand() *command {
	return &command{
		name:    "mailbox",
		summary: "check the support mailbox and the outbound relay",
		usage:   "check",
		help: `mailbox check connects to the mail servers in the configuration and
reports what it finds, without changing anything:

  IMAP_URL  logs in, selects the mailbox and prints the server's
            capabilities, whether it supports IDLE (push) or must be
            polled, the message count, UIDVALIDITY and UIDNEXT.
  SMTP_URL  connects to the relay with the configured TLS, says EHLO,
            authenticates if the URL has credentials, and QUITs without
            sending mail.

Exit 0 when every configured server works, 1 when one fails or neither
variable is set, 3 when a variable is invalid.`,
		run: func(ctx context.Context, c *cli, _ any, args []string) error {
			if len(args) == 0 {
				return usagef("missing subcommand: want %q", "check")
			}
			if args[0] != "check" {
				return usagef("unknown subcommand %q: want %q", args[0], "check")
			}
			if len(args) > 1 {
				return usagef("unexpected argument %q", args[1])
			}
			cfg, err := config.Load(config.ModeTool, c.getenv)
			if err != nil {
				return err
			}
			return mailboxCheck(ctx, c, cfg)
		},
	}
}

// mailboxCheck checks IMAP_URL and SMTP_URL, printing a section for each;
// the error names every one that failed.
func mailboxCheck(ctx context.Context, c *cli, cfg config.Config) error {
	if cfg.IMAPURL == nil && cfg.SMTPURL == nil {
		return errors.New("nothing to check: set IMAP_URL and/or SMTP_URL")
	}
	var failed []string
	if cfg.IMAPURL != nil {
		if err := checkIMAP(ctx, c, cfg); err != nil {
			fmt.Fprintf(c.stdout, "IMAP: FAILED: %v\n", err)
			failed = append(failed, "IMAP_URL")
		}
	}
	if cfg.SMTPURL != nil {
		smtpCfg, err := mailbox.SMTPConfigFromURL(cfg.SMTPURL)
		if err != nil {
			return &config.Error{Var: "SMTP_URL", Reason: err.Error()}
		}
		cctx, cancel := context.WithTimeout(ctx, mailboxCheckTimeout)
		err = mailbox.NewSender(smtpCfg).Check(cctx)
		cancel()
		if err != nil {
			fmt.Fprintf(c.stdout, "SMTP %s: FAILED: %v\n", smtpCfg, err)
			failed = append(failed, "SMTP_URL")
		} else {
			fmt.Fprintf(c.stdout, "SMTP %s: ok (connected, EHLO%s, QUIT; nothing sent)\n", smtpCfg, authNote(smtpCfg))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("check failed for %s", strings.Join(failed, " and "))
	}
	return nil
}

// checkIMAP prints what the support mailbox's server reports.
func checkIMAP(ctx context.Context, c *cli, cfg config.Config) error {
	cctx, cancel := context.WithTimeout(ctx, mailboxCheckTimeout)
	defer cancel()
	r, err := imapsync.Check(cctx, cfg.IMAPURL)
	if err != nil {
		return err
	}
	idle := "no (new mail is polled for)"
	if r.IDLE {
		idle = "yes"
	}
	fmt.Fprintf(c.stdout, "IMAP %s: ok\n", r.Mailbox)
	fmt.Fprintf(c.stdout, "  capabilities: %s\n", strings.Join(r.Capabilities, " "))
	fmt.Fprintf(c.stdout, "  IDLE:         %s\n", idle)
	fmt.Fprintf(c.stdout, "  messages:     %d\n", r.Messages)
	fmt.Fprintf(c.stdout, "  UIDVALIDITY:  %d\n", r.UIDValidity)
	fmt.Fprintf(c.stdout, "  UIDNEXT:      %d\n", r.UIDNext)
	return nil
}

func authNote(cfg mailbox.SMTPConfig) string {
	if cfg.Username == "" {
		return ""
	}
	return ", AUTH as " + cfg.Username
}
