package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/recoverydesk/recoverydesk/internal/audit"
	"github.com/recoverydesk/recoverydesk/internal/config"
)

func auditCommand() *command {
	cmd := &command{
		name:    "audit",
		summary: "check the audit log's hash chain",
		usage:   "verify",
		help: `audit verify  walks the audit log in order, recomputing each row's hash
              and checking it links to the row before. Prints
              "audit log OK: N rows" and exits 0, or names the first
              broken row (edited, or following a deleted row) and exits 1.
The database is found as for every command (DATABASE_URL, else
localhost:5432, else the private cluster).`,
	}
	cmd.run = func(ctx context.Context, c *cli, _ any, args []string) error {
		switch {
		case len(args) == 0:
			return usagef("missing subcommand (want \"verify\")")
		case args[0] != "verify":
			return usagef("unknown subcommand %q (want \"verify\")", args[0])
		case len(args) == 2 && isHelpFlag(args[1]):
			printCommandHelp(c.stdout, cmd, nil)
			return nil
		case len(args) > 1:
			return usagef("unexpected argument %q after \"verify\"", args[1])
		}
		rt, err := setup(ctx, c, config.ModeTool, false)
		if err != nil {
			return err
		}
		defer rt.close()
		res, err := audit.Verify(ctx, rt.store.Ent)
		if err != nil {
			return err
		}
		if b := res.FirstBroken; b != nil {
			fmt.Fprintf(c.stdout, "audit log BROKEN at row %d (%s, %s): %s\n",
				b.ID, b.At.UTC().Format(time.RFC3339Nano), b.Action, b.Reason)
			return &exitError{code: exitFailure, err: errors.New("the audit log's hash chain is broken")}
		}
		fmt.Fprintf(c.stdout, "audit log OK: %d rows\n", res.Rows)
		return nil
	}
	return cmd
}

func isHelpFlag(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "--h"
}
