// Command recoverydesk runs Recovery Desk: `dev` for everything in one
// process, `serve` and `worker` for production, `migrate` and `seed` for
// the database. `recoverydesk help` lists them; exit codes are in exit.go.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
