package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// benchmark is one load benchmark under `recoverydesk bench`.
type benchmark struct {
	name    string
	summary string
	help    string
	flags   func(fs *flag.FlagSet) any
	run     func(ctx context.Context, c *cli, opts any) error
}

func benchmarks() []*benchmark {
	return []*benchmark{benchIngest(), benchHTTP()}
}

func benchCommand() *command {
	var list strings.Builder
	for _, b := range benchmarks() {
		fmt.Fprintf(&list, "  %-8s %s\n", b.name, b.summary)
	}
	return &command{
		name:    "bench",
		summary: "Run a load benchmark (ingest, http) against DATABASE_URL",
		usage:   "<benchmark> [flags]",
		help: `Runs a load benchmark and prints what it measured. docs/BENCHMARKS.md
lists the commands and the numbers measured with them.

Benchmarks:
` + list.String() + `
Run 'recoverydesk bench <benchmark> --help' for a benchmark's flags.`,
		run: runBench,
	}
}

func runBench(ctx context.Context, c *cli, _ any, args []string) error {
	if len(args) == 0 {
		return usagef("name a benchmark")
	}
	var b *benchmark
	for _, cand := range benchmarks() {
		if cand.name == args[0] {
			b = cand
		}
	}
	if b == nil {
		return usagef("unknown benchmark %q", args[0])
	}
	fs := flag.NewFlagSet("bench "+b.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	opts := b.flags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(c.stdout, "Usage: recoverydesk bench %s [flags]\n\n%s\n\nFlags:\n", b.name, strings.TrimSpace(b.help))
			fs.SetOutput(c.stdout)
			fs.PrintDefaults()
			return nil
		}
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return b.run(ctx, c, opts)
}
