package main

import (
	"context"
	"flag"
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
Migrations are applied first.

With --bulk it loads large volumes with COPY instead (default: issue 7's
100k accounts, 300k projects, 3M uploads, 1M cases, 5M messages; shrink
with the size flags), printing the time per table. Every bulk account and
staff member (bulk-agent-1..5, bulk-admin) has the password
"` + seed.BulkPassword + `". A database takes one bulk load.`,
		usage: "[--bulk [--accounts N] [--projects N] [--uploads N] [--cases N] [--messages N] [--seed N] [--keep-triggers]]",
		flags: func(fs *flag.FlagSet) any {
			o := &seedOptions{BulkOptions: seed.BulkTargets}
			fs.BoolVar(&o.bulk, "bulk", false, "load large volumes with COPY instead of the demo data")
			fs.IntVar(&o.Accounts, "accounts", o.Accounts, "bulk: accounts")
			fs.IntVar(&o.Projects, "projects", o.Projects, "bulk: projects")
			fs.IntVar(&o.Uploads, "uploads", o.Uploads, "bulk: uploaded release files")
			fs.IntVar(&o.Cases, "cases", o.Cases, "bulk: cases")
			fs.IntVar(&o.Messages, "messages", o.Messages, "bulk: case messages")
			fs.Uint64Var(&o.Seed, "seed", o.Seed, "bulk: random seed (same seed, same data)")
			fs.BoolVar(&o.KeepTriggers, "keep-triggers", false, "bulk: keep the per-row case_search triggers (slower)")
			return o
		},
		run: func(ctx context.Context, c *cli, opts any, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected argument %q", args[0])
			}
			o := opts.(*seedOptions)
			rt, err := setup(ctx, c, config.ModeTool, true)
			if err != nil {
				return err
			}
			defer rt.close()
			if o.bulk {
				o.Now, o.Progress = time.Now(), c.stdout
				start := time.Now()
				if _, err := seed.Bulk(ctx, rt.store, o.BulkOptions); err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, "Bulk data loaded in %.1fs.\n", time.Since(start).Seconds())
				return nil
			}
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

// seedOptions are the seed command's flags.
type seedOptions struct {
	bulk bool
	seed.BulkOptions
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
