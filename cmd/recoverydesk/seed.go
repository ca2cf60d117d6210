package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/recoverydesk/recoverydesk/internal/config"
	"github.com/recoverydesk/recoverydesk/internal/seed"
)

func seedCommand() *command {
	return &command{
		name:    "seed",
		summary: "load demo data (accounts, projects, uploads, cases)",
		help: `Loads the deterministic demo data set: accounts in each 2FA situation, a
staff agent and a staff admin, organizations and projects with releases
and uploads spread over several years, and a few cases. Idempotent: when
the demo data is already there nothing changes. Prints the demo logins.
Migrations are applied first.`,
		run: func(ctx context.Context, c *cli, _ any, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected argument %q", args[0])
			}
			rt, err := setup(ctx, c, config.ModeTool, true)
			if err != nil {
				return err
			}
			defer rt.close()
			logins, created, err := seed.Demo(ctx, rt.store, time.Now())
			if err != nil {
				return err
			}
			if created {
				fmt.Fprintln(c.stdout, "Demo data loaded.")
			} else {
				fmt.Fprintln(c.stdout, "Demo data was already there; nothing changed.")
			}
			printLogins(c.stdout, logins)
			return nil
		},
	}
}

// printLogins shows the demo accounts a person can sign in with.
func printLogins(w io.Writer, logins seed.Logins) {
	fmt.Fprintln(w, "\nDemo logins:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  USERNAME\tPASSWORD\tSITUATION")
	for _, l := range logins.Accounts {
		situation := l.Situation
		if l.Role != "" {
			situation = "staff " + l.Role + "; " + situation
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", l.Username, l.Password, situation)
		if l.TOTPSecret != "" {
			fmt.Fprintf(tw, "  \t\tTOTP secret (add to an authenticator app): %s\n", l.TOTPSecret)
		}
		for _, code := range l.RecoveryCodes {
			fmt.Fprintf(tw, "  \t\tunused recovery code: %s\n", code)
		}
	}
	tw.Flush()
}
