package main

import (
	"errors"
	"fmt"

	"github.com/recoverydesk/recoverydesk/internal/config"
)

// Exit codes scripts can rely on (also in the README).
const (
	exitOK      = 0 // success; also a clean shutdown on SIGINT/SIGTERM
	exitFailure = 1 // the command failed at run time (database, network, …)
	exitUsage   = 2 // unknown command, bad flag or argument
	exitConfig  = 3 // an environment variable is missing or invalid
	exitPending = 4 // `migrate status`: migrations are pending
)

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// exitError carries a specific exit code with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var ue *usageError
	var ce *config.Error
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ce):
		return exitConfig
	case errors.As(err, &ee):
		return ee.code
	default:
		return exitFailure
	}
}
