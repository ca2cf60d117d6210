package web

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Serve serves app on ln until ctx is cancelled, then shuts down
// gracefully: it stops accepting connections at once and lets in-flight
// requests finish within timeout. It returns nil after a clean shutdown,
// an error if serving failed or requests were still running at the
// deadline.
func Serve(ctx context.Context, app *fiber.App, ln net.Listener, timeout time.Duration) error {
	ln = &closeOnce{Listener: ln}
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()

	select {
	case err := <-served:
		if err != nil {
			return fmt.Errorf("web: serve %s: %w", ln.Addr(), err)
		}
		return fmt.Errorf("web: serve %s: stopped before shutdown", ln.Addr())
	case <-ctx.Done():
	}

	// Close the listener first: if the server goroutine has not yet
	// registered it, the shutdown below would not know about it and the
	// server would keep accepting. Closing is idempotent (closeOnce), so
	// the server closing it again during shutdown is harmless.
	_ = ln.Close()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	shutdownErr := app.ShutdownWithContext(shutdownCtx)
	serveErr := <-served
	if shutdownErr != nil {
		return fmt.Errorf("web: shutdown within %s: %w", timeout, shutdownErr)
	}
	if serveErr != nil {
		return fmt.Errorf("web: serve %s: %w", ln.Addr(), serveErr)
	}
	return nil
}

// closeOnce is a listener whose Close may be called more than once; later
// calls return nil instead of "use of closed network connection".
type closeOnce struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *closeOnce) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}
