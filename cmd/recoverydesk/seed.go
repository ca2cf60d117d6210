package main

import (
	"context"
	"fmt"
	"io"
	"strings"
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
			printLogins(c.stdout, logins, true)
			return nil
		},
	}
}

// printLogins shows the demo accounts a person can sign in with; dev's
// banner shows two recovery codes per account, `seed` all of them.
func printLogins(w io.Writer, logins seed.Logins, allCodes bool) {
	fmt.Fprintln(w, "\nDemo logins:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  USERNAME\tPASSWORD\tSITUATION")
	for _, l := range logins.Accounts {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", l.Username, l.Password, l.Situation)
		if l.TOTPSecret != "" {
			fmt.Fprintf(tw, "  \t\tTOTP secret (add to an authenticator app): %s\n", l.TOTPSecret)
		}
		codes := l.RecoveryCodes
		if !allCodes && len(codes) > 2 {
			codes = codes[:2]
		}
		if len(codes) > 0 {
			more := ""
			if n := len(l.RecoveryCodes) - len(codes); n > 0 {
				more = fmt.Sprintf(" (and %d more: recoverydesk seed lists them)", n)
			}
			fmt.Fprintf(tw, "  \t\tunused recovery codes: %s%s\n", strings.Join(codes, ", "), more)
		}
	}
	tw.Flush()
}
