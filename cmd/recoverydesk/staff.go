package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/internal/config"
)

func staffCommand() *command {
	cmd := &command{
		name:    "staff",
		summary: "grant, revoke or list support-desk roles",
		usage:   "grant EMAIL --role agent|admin | revoke EMAIL | list",
		help: `staff grant EMAIL --role agent|admin
              gives the account owning the verified address EMAIL a staff
              role: agents triage /desk, admins also decide resets and
              manage /admin. Warns when the account has no second factor
              (staff pages refuse sessions without 2FA).
staff revoke EMAIL
              takes the role away; it applies at the account's next request.
staff list    prints every staff member.
Each change is recorded in the audit log (actor "cli (operator)") and in
the account's security history.`,
	}
	cmd.run = func(ctx context.Context, c *cli, _ any, args []string) error {
		if len(args) == 0 {
			return usagef("missing subcommand (want \"grant\", \"revoke\" or \"list\")")
		}
		sub, rest := args[0], args[1:]
		if len(rest) == 1 && isHelpFlag(rest[0]) {
			printCommandHelp(c.stdout, cmd, nil)
			return nil
		}
		var email, role string
		switch sub {
		case "grant":
			// Flags may come before or after EMAIL.
			fs := flag.NewFlagSet("staff grant", flag.ContinueOnError)
			fs.SetOutput(c.stderr)
			fs.StringVar(&role, "role", "", `"agent" or "admin"`)
			var positional []string
			for len(rest) > 0 {
				if err := fs.Parse(rest); err != nil {
					return usagef("%v", err)
				}
				rest = fs.Args()
				if len(rest) > 0 {
					positional = append(positional, rest[0])
					rest = rest[1:]
				}
			}
			if len(positional) != 1 {
				return usagef("staff grant needs exactly one EMAIL")
			}
			if role != account.RoleAgent && role != account.RoleAdmin {
				return usagef("--role must be \"agent\" or \"admin\", not %q", role)
			}
			email = positional[0]
		case "revoke":
			if len(rest) != 1 {
				return usagef("staff revoke needs exactly one EMAIL")
			}
			email = rest[0]
		case "list":
			if len(rest) > 0 {
				return usagef("unexpected argument %q after \"list\"", rest[0])
			}
		default:
			return usagef("unknown subcommand %q (want \"grant\", \"revoke\" or \"list\")", sub)
		}

		rt, err := setup(ctx, c, config.ModeTool, false)
		if err != nil {
			return err
		}
		defer rt.close()
		var ch account.StaffChange
		switch sub {
		case "list":
			return printStaff(ctx, c, rt)
		case "grant":
			ch, err = account.GrantStaff(ctx, rt.store, email, role)
		case "revoke":
			ch, err = account.RevokeStaff(ctx, rt.store, email)
		}
		switch {
		case errors.Is(err, account.ErrUnknownAddress):
			return fmt.Errorf("no account has the address %s", email)
		case errors.Is(err, account.ErrAddressUnverified):
			return fmt.Errorf("the address %s is not verified; its owner must verify it first", email)
		case err != nil:
			return err
		}
		switch {
		case !ch.Changed && ch.To == account.RoleNone:
			fmt.Fprintf(c.stdout, "%s (%s) has no staff role; nothing changed\n", ch.Username, email)
		case !ch.Changed:
			fmt.Fprintf(c.stdout, "%s (%s) is already %s; nothing changed\n", ch.Username, email, ch.To)
		case ch.To == account.RoleNone:
			fmt.Fprintf(c.stdout, "revoked: %s (%s) is no longer %s\n", ch.Username, email, ch.From)
		default:
			fmt.Fprintf(c.stdout, "granted: %s (%s) is now %s\n", ch.Username, email, ch.To)
		}
		if ch.To != account.RoleNone && !ch.SecondFactor {
			fmt.Fprintf(c.stderr, "warning: %s has no second factor; staff pages stay closed until they add an authenticator app or security key\n", ch.Username)
		}
		return nil
	}
	return cmd
}

func printStaff(ctx context.Context, c *cli, rt *runtime) error {
	staff, err := account.ListStaff(ctx, rt.store.Ent)
	if err != nil {
		return err
	}
	if len(staff) == 0 {
		fmt.Fprintln(c.stdout, "no staff")
		return nil
	}
	for _, m := range staff {
		twofa := "2FA"
		if !m.SecondFactor {
			twofa = "no 2FA"
		}
		fmt.Fprintf(c.stdout, "%-6s %-20s %-32s %s\n", m.Role, m.Username, m.Email, twofa)
	}
	return nil
}
