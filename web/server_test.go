package web_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/web"
)

// slowRoute holds GET /test/slow until release is closed; entered is
// closed when the first request arrives.
type slowRoute struct {
	entered, release chan struct{}
	once             sync.Once
}

func newSlowRoute() *slowRoute {
	return &slowRoute{entered: make(chan struct{}), release: make(chan struct{})}
}

func (s *slowRoute) register(r fiber.Router) {
	r.Get("/test/slow", func(c *fiber.Ctx) error {
		s.once.Do(func() { close(s.entered) })
		<-s.release
		return c.SendString("finished")
	})
}

type slowResult struct {
	status int
	body   string
	err    error
}

// startServe runs web.Serve on a fresh loopback listener.
func startServe(t *testing.T, app *fiber.App, timeout time.Duration) (addr string, cancel context.CancelFunc, served chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	served = make(chan error, 1)
	go func() { served <- web.Serve(ctx, app, ln, timeout) }()
	return ln.Addr().String(), cancel, served
}

func getAsync(url string) chan slowResult {
	out := make(chan slowResult, 1)
	go func() {
		res, err := (&http.Client{Timeout: 30 * time.Second}).Get(url)
		if err != nil {
			out <- slowResult{err: err}
			return
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		out <- slowResult{status: res.StatusCode, body: string(body), err: err}
	}()
	return out
}

func waitClosed[T any](t *testing.T, ch chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(15 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// waitRefused polls until a new connection to addr is refused.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("new connections are still accepted after shutdown began")
		}
		<-tick.C
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	t.Parallel()
	slow := newSlowRoute()
	b := setup(t, setupOpts{noDevMail: true, extra: slow.register})
	addr, cancel, served := startServe(t, b.app, 10*time.Second)

	health := waitClosed(t, getAsync("http://"+addr+"/healthz"), "/healthz")
	if health.err != nil || health.status != http.StatusOK {
		t.Fatalf("/healthz before shutdown: %+v", health)
	}

	inFlight := getAsync("http://" + addr + "/test/slow")
	waitClosed(t, slow.entered, "the slow request to start")

	cancel()
	waitRefused(t, addr)
	select {
	case err := <-served:
		t.Fatalf("Serve returned (%v) while a request was in flight", err)
	default:
	}

	close(slow.release)
	res := waitClosed(t, inFlight, "the in-flight request")
	if res.err != nil || res.status != http.StatusOK || res.body != "finished" {
		t.Fatalf("in-flight request: %+v, want 200 finished", res)
	}
	if err := waitClosed(t, served, "Serve to return"); err != nil {
		t.Fatalf("Serve after a clean shutdown: %v", err)
	}
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Fatal("a connection was accepted after Serve returned")
	}
}

func TestServeReportsShutdownTimeout(t *testing.T) {
	t.Parallel()
	slow := newSlowRoute()
	b := setup(t, setupOpts{noDevMail: true, extra: slow.register})
	addr, cancel, served := startServe(t, b.app, 200*time.Millisecond)

	inFlight := getAsync("http://" + addr + "/test/slow")
	waitClosed(t, slow.entered, "the slow request to start")
	cancel()
	if err := waitClosed(t, served, "Serve to return"); err == nil {
		t.Fatal("Serve returned nil although a request outlived the timeout")
	}
	close(slow.release)
	<-inFlight
}

func TestServeStopsWhenCancelledAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // before the server could even start
	if err := web.Serve(ctx, b.app, ln, time.Second); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if conn, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		conn.Close()
		t.Fatal("listener still open")
	}
}
