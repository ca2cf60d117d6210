package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

func failingRoutes(r fiber.Router) {
	r.Get("/test/fail", func(*fiber.Ctx) error { return errBoom })
	r.Get("/test/panic", func(*fiber.Ctx) error { panic("kaboom: hunter2") })
	r.Get("/test/gone", func(*fiber.Ctx) error { return fiber.NewError(http.StatusGone, "That link was used already.") })
}

func TestInternalErrorPage(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/test/fail", "/test/panic"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{noDevMail: true, extra: failingRoutes})
			r := newClient(t, b.app).get(path)
			wantStatus(t, r, http.StatusInternalServerError)
			d := parse(t, r.body)
			wantLayout(t, d)
			d.testID("error-500")
			if strings.Contains(r.body, "hunter2") || strings.Contains(r.body, "kaboom") || strings.Contains(r.body, "goroutine") {
				t.Errorf("500 page shows error details:\n%s", r.body)
			}
			id := r.Header.Get("X-Request-ID")
			if got := text(d.testID("request-id")); got != id {
				t.Errorf("page reference %q, want the request id %q", got, id)
			}

			failed := b.logs.lines("request failed")
			if len(failed) != 1 {
				t.Fatalf("%d 'request failed' log lines, want exactly 1:\n%s", len(failed), b.logs.String())
			}
			if !strings.Contains(failed[0], "hunter2") || !strings.Contains(failed[0], id) {
				t.Errorf("log line lacks the error or the request id: %s", failed[0])
			}
			if path == "/test/panic" && !strings.Contains(failed[0], `"stack":`) {
				t.Errorf("panic logged without its stack: %s", failed[0])
			}
			reqLines := b.logs.lines("request")
			if len(reqLines) != 1 || !strings.Contains(reqLines[0], `"status":500`) {
				t.Errorf("request log lines %q, want one with status 500", reqLines)
			}
		})
	}
}

func TestClientErrorShowsItsMessage(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true, extra: failingRoutes})
	r := newClient(t, b.app).get("/test/gone")
	wantStatus(t, r, http.StatusGone)
	d := parse(t, r.body)
	wantLayout(t, d)
	if got := text(d.testID("error-410")); !strings.Contains(got, "That link was used already.") {
		t.Errorf("410 page says %q", got)
	}
	if n := len(b.logs.lines("request failed")); n != 0 {
		t.Errorf("a client error was logged as internal %d times", n)
	}
}
