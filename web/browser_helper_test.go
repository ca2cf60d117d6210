package web_test

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gofiber/fiber/v2"
)

// chromiumPath is where Debian's chromium package puts the browser; the
// CHROMIUM environment variable overrides it.
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// newBrowser starts a headless Chromium with a throwaway profile and
// returns the context of one tab; everything is torn down with the test.
// Without Chromium the test is skipped loudly, or fails when
// REQUIRE_BROWSER=1 (CI sets it after installing the browser).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := requireChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc() // waits for the browser process to exit
	})
	// Start the browser here so a launch failure is reported as such.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// requireChromium returns the browser's path, or skips the test loudly
// when it is missing (fails it under REQUIRE_BROWSER=1).
func requireChromium(t *testing.T) string {
	t.Helper()
	path := chromiumPath()
	if _, err := os.Stat(path); err != nil {
		msg := "BROWSER TEST NOT RUN: Chromium not found at " + path +
			" (install the Debian package chromium, or set CHROMIUM=/path/to/chrome)"
		if os.Getenv("REQUIRE_BROWSER") == "1" {
			t.Fatal(msg + "; REQUIRE_BROWSER=1 makes this a failure")
		}
		t.Skip("!!! " + msg + "; set REQUIRE_BROWSER=1 to make this a failure !!!")
	}
	return path
}

// browseApp serves app on a real socket and opens a browser tab for it;
// it returns the tab's context and the site's base URL. The browser is
// closed before the server shuts down (cleanups run last-in first-out):
// otherwise the server would wait on the browser's spare connections.
func browseApp(t *testing.T, app *fiber.App) (context.Context, string) {
	t.Helper()
	requireChromium(t)
	base := serveForBrowser(t, app)
	return newBrowser(t), base
}

// serveForBrowser serves app on a loopback port with web.Serve, as
// production does, and returns its base URL. The server is shut down
// gracefully when the test ends.
func serveForBrowser(t *testing.T, app *fiber.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveForTest(t, app, ln)
	return "http://" + ln.Addr().String()
}
