package web_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/web"
)

// serveForTest serves app on ln until the test ends; the cleanup stops the
// server and reports an error it ended with.
func serveForTest(t *testing.T, app *fiber.App, ln net.Listener) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- web.Serve(ctx, app, ln, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("web.Serve: %v", err)
		}
	})
}
