package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

func TestBrowserHomePageLandmarksAndKeyboard(t *testing.T) {
	b := setup(t, setupOpts{noDevMail: true})
	ctx, base := browseApp(t, b.app)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("header[data-testid=site-header]")),
		chromedp.WaitVisible(chromedp.CSS("main#main")),
		chromedp.WaitVisible(chromedp.CSS("footer[data-testid=site-footer]")),
	); err != nil {
		t.Fatalf("load the home page: %v", err)
	}
	name, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("[data-testid=site-name]")))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(name) != testSite {
		t.Errorf("site name %q, want %q", name, testSite)
	}

	// Our stylesheet applied (the CSP let it load): the header is dark
	// and the body uses the system font stack.
	headerBG, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`getComputedStyle(document.querySelector("[data-testid=site-header]")).backgroundColor`))
	if err != nil {
		t.Fatal(err)
	}
	if headerBG != "rgb(27, 31, 36)" {
		t.Errorf("header background %q: app.css not applied", headerBG)
	}
	font, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).fontFamily`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(font, "system-ui") {
		t.Errorf("body font %q, want the system font stack", font)
	}

	// The skip link is off screen until the keyboard reaches it: it is the
	// first Tab stop, becomes visible, and Enter moves focus to <main>.
	top, err := chromedp.Run(ctx, chromedp.Evaluate[float64](
		`document.querySelector("[data-testid=skip-link]").getBoundingClientRect().top`))
	if err != nil {
		t.Fatal(err)
	}
	if top >= 0 {
		t.Errorf("skip link visible before focus (top %v)", top)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
		t.Fatal(err)
	}
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.dataset.testid || document.activeElement.tagName`))
	if err != nil {
		t.Fatal(err)
	}
	if focused != "skip-link" {
		t.Fatalf("first Tab focuses %q, want the skip link", focused)
	}
	top, err = chromedp.Run(ctx, chromedp.Evaluate[float64](
		`document.querySelector("[data-testid=skip-link]").getBoundingClientRect().top`))
	if err != nil {
		t.Fatal(err)
	}
	if top < 0 {
		t.Errorf("focused skip link is still off screen (top %v)", top)
	}
	outline, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.activeElement).outlineStyle`))
	if err != nil {
		t.Fatal(err)
	}
	if outline == "none" || outline == "" {
		t.Errorf("focused skip link has no visible outline (%q)", outline)
	}

	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.activeElement.id === "main" && location.hash === "#main"`)); err != nil {
		t.Fatalf("Enter on the skip link did not move focus to main: %v", err)
	}
}
