package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/recoverydesk/recoverydesk/internal/config"
	"github.com/recoverydesk/recoverydesk/migrations"
)

func migrateCommand() *command {
	return &command{
		name:    "migrate",
		summary: "apply database migrations, or show their status",
		usage:   "[status]",
		help: `migrate         applies every pending migration (ours, then River's) under
                an advisory lock; running it again changes nothing.
migrate status  lists each migration as applied or pending; exits 4 when
                any is pending, 0 when none is.
The database is found as for every command (DATABASE_URL, else
localhost:5432, else the private cluster) and created if missing.`,
		run: func(ctx context.Context, c *cli, _ any, args []string) error {
			status := false
			switch {
			case len(args) == 0:
			case len(args) == 1 && args[0] == "status":
				status = true
			default:
				return usagef("unexpected argument %q (want nothing or \"status\")", args[0])
			}
			rt, err := setup(ctx, c, config.ModeTool, false)
			if err != nil {
				return err
			}
			defer rt.close()
			if status {
				return printStatus(ctx, c, rt)
			}
			applied, err := migrations.Apply(ctx, rt.store.Pool, rt.log)
			if err != nil {
				return err
			}
			if len(applied.Schema)+len(applied.River) == 0 {
				fmt.Fprintln(c.stdout, "Database is up to date; nothing to apply.")
				return nil
			}
			fmt.Fprintf(c.stdout, "Applied %d schema and %d River migrations.\n", len(applied.Schema), len(applied.River))
			return nil
		},
	}
}

func printStatus(ctx context.Context, c *cli, rt *runtime) error {
	items, err := migrations.Status(ctx, rt.store.Pool)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "STATE\tMIGRATION\tAPPLIED AT")
	pending := 0
	for _, it := range items {
		state, at := "applied", ""
		if !it.Applied {
			state = "pending"
			pending++
		} else if !it.AppliedAt.IsZero() {
			at = it.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", state, it.Name, at)
	}
	w.Flush()
	if pending > 0 {
		return &exitError{code: exitPending, err: fmt.Errorf("%d migrations pending; run 'recoverydesk migrate'", pending)}
	}
	return nil
}
