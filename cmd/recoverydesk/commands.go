package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// cli is what every command gets: output streams and the environment.
type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// command is one subcommand; its flags are declared in flags and parsed
// before run is called.
type command struct {
	name    string
	summary string
	usage   string // arguments after the name, e.g. "[status]"
	help    string // longer text for --help
	flags   func(fs *flag.FlagSet) any
	run     func(ctx context.Context, c *cli, opts any, args []string) error
}

func commands() []*command {
	return []*command{devCommand(), serveCommand(), workerCommand(), migrateCommand(), seedCommand(), benchCommand(), mailboxCommand(), auditCommand(), staffCommand()}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c := &cli{stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		if len(args) > 1 {
			if cmd := find(args[1]); cmd != nil {
				printCommandHelp(stdout, cmd, nil)
				return exitOK
			}
		}
		printHelp(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd := find(args[0])
	if cmd == nil {
		fmt.Fprintf(stderr, "recoverydesk: unknown command %q\n\n", args[0])
		printHelp(stderr)
		return exitUsage
	}
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var opts any
	if cmd.flags != nil {
		opts = cmd.flags(fs)
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printCommandHelp(stdout, cmd, fs)
			return exitOK
		}
		fmt.Fprintf(stderr, "recoverydesk %s: %v\n\n", cmd.name, err)
		printCommandHelp(stderr, cmd, fs)
		return exitUsage
	}
	err := cmd.run(ctx, c, opts, fs.Args())
	code := exitCode(err)
	if err != nil {
		fmt.Fprintf(stderr, "recoverydesk %s: %v\n", cmd.name, err)
		if code == exitUsage {
			fmt.Fprintln(stderr)
			printCommandHelp(stderr, cmd, fs)
		}
	}
	return code
}

func find(name string) *command {
	for _, cmd := range commands() {
		if cmd.name == name {
			return cmd
		}
	}
	return nil
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "Recovery Desk: the login and 2FA flow of a package index, and its account-recovery desk.")
	fmt.Fprintln(w, "\nUsage: recoverydesk <command> [flags]\n\nCommands:")
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintln(w, "\nRun 'recoverydesk <command> --help' for a command's flags.")
	fmt.Fprintln(w, "Configuration comes from environment variables; see the README.")
	fmt.Fprintln(w, "Exit codes: 0 ok, 1 failure, 2 usage error, 3 configuration error, 4 migrations pending (migrate status).")
}

func printCommandHelp(w io.Writer, cmd *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: recoverydesk %s", cmd.name)
	if fs == nil {
		fs = flag.NewFlagSet(cmd.name, flag.ContinueOnError)
		if cmd.flags != nil {
			cmd.flags(fs)
		}
	}
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprint(w, " [flags]")
	}
	if cmd.usage != "" {
		fmt.Fprint(w, " "+cmd.usage)
	}
	fmt.Fprintf(w, "\n\n%s\n", strings.TrimSpace(cmd.help))
	if hasFlags {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
}
