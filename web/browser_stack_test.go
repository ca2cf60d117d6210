package web_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/internal/config"
	"github.com/recoverydesk/recoverydesk/internal/ratelimit"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/mailbox"
	"github.com/recoverydesk/recoverydesk/mailbox/devmail"
	"github.com/recoverydesk/recoverydesk/mailbox/imapsync"
	"github.com/recoverydesk/recoverydesk/web"
	"github.com/recoverydesk/recoverydesk/workers"
)

// browserStack is the whole product as a browser meets it: the web app on
// a real socket, the account services on the package database, and a
// River client that delivers queued mail over SMTP to a devmail Sink.
//
// River clients on one database take each other's jobs, so tests that
// build a browserStack must not call t.Parallel: sequential tests never
// overlap parallel ones. Mail jobs queued earlier by other tests (whose
// Outboxes cannot send) end up in this Sink too; waitMail filters by
// recipient, so they do no harm.
type browserStack struct {
	// base is http://localhost:<port>: WebAuthn refuses IP addresses.
	base    string
	cfg     config.Config
	account *account.Services
	sink    *devmail.Sink
	logs    *logBuffer
	// signer signs the desk's Message-IDs, to check the mail it sends.
	signer *mailbox.MessageIDSigner
	// mailbox is the support mailbox ingestion reads; nil unless the
	// stack was made with stackOpts.devMail.
	mailbox *devmail.Mailbox
}

// stackOpts varies what newBrowserStackWith starts.
type stackOpts struct {
	// devMail runs the stack as `recoverydesk dev` does: in dev mode with
	// the /dev/mail pages over the Sink and an in-process IMAP support
	// mailbox, which IMAP ingestion reads into cases until the test ends.
	devMail bool
}

// stackLogger collects the app's and the workers' logs; they are printed
// only when the test fails.
func stackLogger(logs *logBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newBrowserStack starts everything and stops it when the test ends. It
// skips (or fails, under REQUIRE_BROWSER=1) before starting anything when
// Chromium is missing.
func newBrowserStack(t *testing.T) *browserStack {
	t.Helper()
	return newBrowserStackWith(t, stackOpts{})
}

// newBrowserStackWith is newBrowserStack with the options of opts.
func newBrowserStackWith(t *testing.T, opts stackOpts) *browserStack {
	t.Helper()
	requireChromium(t)
	st := testdb.Store(t)
	logs := &logBuffer{}
	logger := stackLogger(logs)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("app and worker log:\n%s", logs.String())
		}
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	base, err := url.Parse(fmt.Sprintf("http://localhost:%d", port))
	if err != nil {
		t.Fatal(err)
	}

	sink := devmail.NewSink(logger, 500)
	smtpAddr, err := sink.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	waitSMTPGreeting(t, smtpAddr)
	t.Cleanup(func() { _ = sink.Close() })

	cfg := config.Config{
		SiteName:       testSite,
		BaseURL:        base,
		SecretKey:      bytes.Repeat([]byte("b"), 32),
		SupportAddress: testSupport,
		Mode:           config.ModeServe,
		// Each tab names its own client address (browserTab), as a proxy
		// would: the per-IP sign-in limit then counts each browser alone,
		// not every sign-in of the package's browser tests together.
		TrustedProxies: []string{"127.0.0.1"},
	}
	if opts.devMail {
		// The app refuses the /dev/mail pages outside dev mode.
		cfg.Mode = config.ModeDev
	}
	smtpCfg, err := mailbox.ParseSMTPURL("smtp://" + smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	outbox, err := mailbox.NewOutbox(mailbox.OutboxConfig{
		Client: st.Ent,
		Sender: mailbox.NewSender(smtpCfg),
		From:   mail.Address{Name: cfg.SiteName, Address: cfg.SupportAddress},
		Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := account.NewServices(account.ServicesConfig{
		Store: st, Outbox: outbox, SiteName: cfg.SiteName, BaseURL: cfg.BaseURL, Params: &cheapPasswords,
	})
	if err != nil {
		t.Fatal(err)
	}

	// The desk queues on the same Outbox, so its mail reaches the Sink.
	signer, err := mailbox.NewMessageIDSigner(bytes.Repeat([]byte("m"), 32), "desk.test")
	if err != nil {
		t.Fatal(err)
	}
	intake := desk.NewIntake(st, outbox, signer, ratelimit.New(st.Pool, nil), cfg.SiteName, cfg.BaseURL, nil)
	ev := desk.NewEvidence(st, outbox, signer, cfg.SiteName, cfg.BaseURL, desk.EvidenceOptions{})
	tr := desk.NewTriage(st, outbox, signer, ev, cfg.SiteName, cfg.BaseURL, desk.TriageOptions{})

	jobs, err := workers.NewClient(workers.Deps{Store: st, Logger: logger, Sessions: svc.Sessions, Outbox: outbox, Evidence: ev, Triage: tr},
		&workers.Options{MaxWorkers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.Start(context.Background()); err != nil {
		t.Fatalf("start River: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := jobs.Stop(ctx); err != nil {
			t.Errorf("stop River: %v", err)
		}
	})

	deps := web.Deps{
		Config:   cfg,
		Logger:   logger,
		Sessions: svc.Sessions,
		Account:  svc,
		Desk:     intake,
		Evidence: ev,
		Triage:   tr,
		Ready:    func(context.Context) error { return nil },
	}
	var inbox *devmail.Mailbox
	if opts.devMail {
		inbox = startIngestedMailbox(t, st, outbox, signer, cfg, logger)
		deps.DevMail = &web.DevMail{Sink: sink, Mailbox: inbox, SupportAddress: cfg.SupportAddress}
	}
	app, err := web.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	// Its cleanup is registered last, so it runs first: the server stops
	// before the River client and the Sink. Browsers, made after this,
	// close earlier still, so the server does not wait on their idle
	// connections.
	serveForTest(t, app, ln)

	return &browserStack{base: base.String(), cfg: cfg, account: svc, sink: sink, logs: logs, signer: signer, mailbox: inbox}
}

// startIngestedMailbox starts an in-process IMAP support mailbox and runs
// IMAP ingestion of it into cases, as `recoverydesk dev` does, until the
// test ends. The checkpoint is keyed by the mailbox's port, so no other
// test's ingestion holds its lease.
func startIngestedMailbox(t *testing.T, st *store.Store, outbox *mailbox.Outbox, signer *mailbox.MessageIDSigner,
	cfg config.Config, logger *slog.Logger) *devmail.Mailbox {
	t.Helper()
	inbox := devmail.NewMailbox(logger, "support", "support-test")
	if _, err := inbox.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = inbox.Close() })
	inbound := desk.NewInbound(st, outbox, signer, desk.InboundOptions{
		SupportAddresses: []string{cfg.SupportAddress},
		SiteName:         cfg.SiteName,
		BaseURL:          cfg.BaseURL,
		Logger:           logger,
	})
	syncer, err := imapsync.New(st.Ent, inbound, imapsync.Config{
		URL:    inbox.URL(),
		Owner:  fmt.Sprintf("browser-test-%d", clientSeq.Add(1)),
		Logger: logger,
		// The mailbox announces new mail with IDLE; a short safety-net
		// interval only matters should that fail.
		PollInterval: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := syncer.Run(ctx); err != nil {
			logger.Error("ingestion stopped", "err", err)
		}
	}()
	// Registered after the mailbox's Close, so it runs before it.
	t.Cleanup(func() { cancel(); <-done })
	return inbox
}

// url is the absolute address of path on the site.
func (s *browserStack) url(path string) string { return s.base + path }

// mailDeadline bounds the wait for a queued mail: River picks a job up
// within about a second, the Sink answers at once.
const mailDeadline = 30 * time.Second

// mailsTo returns the captured mails to the address whose subject contains
// subject ("" for all), newest first.
func (s *browserStack) mailsTo(to, subject string) []devmail.Mail {
	var out []devmail.Mail
	for _, m := range s.sink.List() {
		if !strings.Contains(m.Subject, subject) {
			continue
		}
		for _, rcpt := range m.EnvelopeTo {
			if strings.EqualFold(rcpt, to) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// waitMail returns the newest mail to the address whose subject contains
// subjectContains, polling the Sink until mailDeadline.
func (s *browserStack) waitMail(t *testing.T, to, subjectContains string) devmail.Mail {
	t.Helper()
	deadline := time.Now().Add(mailDeadline)
	for {
		if found := s.mailsTo(to, subjectContains); len(found) > 0 {
			return found[0]
		}
		if time.Now().After(deadline) {
			var seen []string
			for _, m := range s.sink.List() {
				seen = append(seen, fmt.Sprintf("%v %q", m.EnvelopeTo, m.Subject))
			}
			t.Fatalf("no mail to %s with %q in the subject within %s; the sink has: %v",
				to, subjectContains, mailDeadline, seen)
		}
		time.Sleep(50 * time.Millisecond) // poll interval inside the deadline loop
	}
}

// mailLink returns the first link in m's text part to path on this site
// (query string included).
func (s *browserStack) mailLink(t *testing.T, m devmail.Mail, path string) string {
	t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(s.base+path) + `(\?[^\s<>"]*)?`)
	link := re.FindString(m.Text)
	if link == "" {
		t.Fatalf("mail %q has no link to %s%s; text:\n%s", m.Subject, s.base, path, m.Text)
	}
	return link
}

// profileBudget bounds everything one browser profile does in a test.
const profileBudget = 3 * time.Minute

// newProfile starts a headless Chromium with its own fresh profile
// directory (so its own cookies) and returns the context of its first tab.
// Unlike newBrowser it allows a longer walk: a TOTP sign-in may wait up to
// a 30-second time step.
func newProfile(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(requireChromium(t)),
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
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser process to exit
	})
	// The first Run starts the browser and must not carry a timeout (it
	// would stop the browser); the budget applies to what follows.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	ctx, cancelBudget := context.WithTimeout(ctx, profileBudget)
	t.Cleanup(cancelBudget)
	return ctx
}

// newTab opens another tab in the browser of ctx (same profile, same
// cookies) and returns its context.
func newTab(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return tab
}

// profile starts a browser with a fresh profile and returns a driver of
// its first tab.
func (s *browserStack) profile(t *testing.T, name string) *tab {
	t.Helper()
	return s.driver(t, newProfile(t), name)
}

// secondTab opens another tab in b's browser: same cookies, and its own
// client address, as when a laptop moves to another network.
func (s *browserStack) secondTab(t *testing.T, b *tab, name string) *tab {
	t.Helper()
	return s.driver(t, newTab(t, b.ctx), name)
}

// driver gives the tab of ctx a client address of its own, sent as
// X-Forwarded-For, which the stack trusts from 127.0.0.1.
func (s *browserStack) driver(t *testing.T, ctx context.Context, name string) *tab {
	t.Helper()
	n := clientSeq.Add(1)
	b := &tab{t: t, ctx: ctx, name: name, ip: fmt.Sprintf("10.%d.%d.%d", n/65536%256, n/256%256, n%256)}
	callCtx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	_, err := chromedp.Call(callCtx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"X-Forwarded-For": b.ip},
	})
	if err != nil {
		b.fatal("set the client address", err)
	}
	return b
}

// stepTimeout bounds one browser step: element queries wait for their
// element until the context ends, so a page without it would otherwise
// only fail at the profile's budget.
const stepTimeout = 20 * time.Second

// tab drives one browser tab and fails the test with the page's address
// and text when a step does not work.
type tab struct {
	t    *testing.T
	ctx  context.Context
	name string // "profile A", for messages
	ip   string // the client address the app sees, "" for the socket's
}

// newTabDriver drives the tab of ctx as it is (no client address of its
// own); other browser tests use it with their own servers.
func newTabDriver(t *testing.T, ctx context.Context, name string) *tab {
	return &tab{t: t, ctx: ctx, name: name}
}

// fatal fails the test, saying where this tab is and what it shows.
func (b *tab) fatal(what string, err error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	b.t.Fatalf("%s: %s: %v\nat %s, the page reads:\n%s", b.name, what, err, loc, body)
}

// do runs steps within stepTimeout.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fatal(what, err)
	}
}

// load runs steps that cause a navigation (opening an address, clicking a
// link or a submit button), waits for the page to load and returns its
// status.
func (b *tab) load(what string, steps ...chromedp.Action[chromedp.Void]) int64 {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		b.fatal(what, err)
	}
	if res == nil {
		return 0
	}
	return res.Status
}

// open navigates to address and fails unless the page answers 200.
func (b *tab) open(address string) {
	b.t.Helper()
	if status := b.load("open "+address, chromedp.Navigate(address)); status != 200 {
		b.fatal("open "+address, fmt.Errorf("status %d", status))
	}
}

// text is the text of the first element matching sel, whitespace collapsed.
func (b *tab) text(sel chromedp.CSS) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		b.fatal("read the text of "+string(sel), err)
	}
	return strings.Join(strings.Fields(s), " ")
}

// has reports whether an element matching sel is in the page now.
func (b *tab) has(sel chromedp.CSS) bool {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	found, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		fmt.Sprintf(`document.querySelector(%q) !== null`, string(sel))))
	if err != nil {
		b.fatal("look for "+string(sel), err)
	}
	return found
}

// path is the path (with query) of the page the tab shows.
func (b *tab) path() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.fatal("read the location", err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		b.fatal("parse the location", err)
	}
	return u.RequestURI()
}

// waitPath waits until the tab shows a page at path (query ignored), as
// after a redirect a script makes.
func (b *tab) waitPath(path string, within time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
		loc, err := chromedp.Run(ctx, chromedp.Location())
		cancel()
		if err == nil {
			if u, perr := url.Parse(loc); perr == nil && u.Path == path {
				return
			}
		}
		if time.Now().After(deadline) {
			b.fatal("wait for "+path, fmt.Errorf("still at %s after %s (last error: %v)", loc, within, err))
		}
		time.Sleep(100 * time.Millisecond) // poll interval inside the deadline loop
	}
}

// tid is the CSS selector of the element with that data-testid.
func tid(id string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf(`[data-testid=%q]`, id)) }

// field is the CSS selector of the input named name inside the element
// with data-testid form.
func field(form, name string) chromedp.CSS {
	return chromedp.CSS(fmt.Sprintf(`[data-testid=%q] [name=%q]`, form, name))
}

// typeInto types value into the field, as a person does.
func typeInto(sel chromedp.CSS, value string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(sel, value)
}
