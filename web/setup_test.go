package web_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/internal/config"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/mailbox"
	"github.com/recoverydesk/recoverydesk/mailbox/devmail"
	"github.com/recoverydesk/recoverydesk/web"
)

const (
	testSite    = "Recovery Desk Test"
	testSupport = "support@desk.test"
	testBase    = "http://desk.test"
)

// bundle is one booted app and the real pieces behind it.
type bundle struct {
	app      *fiber.App
	cfg      config.Config
	sessions *account.Sessions
	account  *account.Services
	ready    *readyState
	logs     *logBuffer
	sink     *devmail.Sink
	mailbox  *devmail.Mailbox
	// intake and evidence are the desk services behind the app; no River
	// client runs in these tests, so tests run evidence jobs themselves
	// with evidence.Run.
	intake   *desk.Intake
	evidence *desk.Evidence
	// triage is the staff desk; its scheduled resets are run by tests
	// themselves, like the evidence jobs.
	triage *desk.Triage
}

type setupOpts struct {
	noDevMail bool
	extra     func(fiber.Router)
	// sessions replaces the PostgreSQL-backed store, to inject a failure.
	sessions web.SessionStore
}

// setup boots the app with a real devmail Sink and Mailbox on loopback
// sockets, sessions in the package's PostgreSQL database, and a switchable
// readiness check.
func setup(t *testing.T, opts setupOpts) *bundle {
	t.Helper()
	logs := &logBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	base, _ := url.Parse(testBase)
	b := &bundle{
		cfg: config.Config{
			SiteName:       testSite,
			BaseURL:        base,
			SecretKey:      bytes.Repeat([]byte("k"), 32),
			SupportAddress: testSupport,
			Mode:           config.ModeDev,
			// app.Test's connections come from 0.0.0.0: trust it as the
			// proxy so each test client has an address of its own.
			TrustedProxies: []string{"0.0.0.0"},
		},
		sessions: account.NewSessions(testdb.Store(t).Ent, account.DefaultSessionPolicy, nil),
		ready:    &readyState{},
		logs:     logs,
	}
	b.account = newAccountServices(t, b.cfg)
	b.intake, b.evidence, b.triage = newDeskTriage(t, b.cfg, desk.EvidenceOptions{}, desk.TriageOptions{})
	var store web.SessionStore = b.sessions
	if opts.sessions != nil {
		store = opts.sessions
	}
	deps := web.Deps{
		Config:   b.cfg,
		Logger:   logger,
		Sessions: store,
		Account:  b.account,
		Desk:     b.intake,
		Evidence: b.evidence,
		Triage:   b.triage,
		Ready:    b.ready.check,
		Extra:    opts.extra,
	}
	if !opts.noDevMail {
		b.sink = devmail.NewSink(logger, 50)
		addr, err := b.sink.Start("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		waitSMTPGreeting(t, addr)
		t.Cleanup(func() { _ = b.sink.Close() })
		b.mailbox = devmail.NewMailbox(logger, "support", "s3cret")
		if _, err := b.mailbox.Start("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.mailbox.Close() })
		deps.DevMail = &web.DevMail{Sink: b.sink, Mailbox: b.mailbox, SupportAddress: testSupport}
	}
	app, err := web.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	b.app = app
	return b
}

// cheapPasswords keeps the tests' password hashing fast; the real cost is
// measured by account's benchmark.
var cheapPasswords = account.PasswordParams{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// newAccountServices wires the real account services to the package
// database; mail is queued in PostgreSQL (the tests read it there).
func newAccountServices(t *testing.T, cfg config.Config) *account.Services {
	t.Helper()
	st := testdb.Store(t)
	ob, err := mailbox.NewOutbox(mailbox.OutboxConfig{Client: st.Ent, From: mail.Address{Name: cfg.SiteName, Address: cfg.SupportAddress}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := account.NewServices(account.ServicesConfig{Store: st, Outbox: ob, SiteName: cfg.SiteName, BaseURL: cfg.BaseURL, Params: &cheapPasswords})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var userSeq atomic.Int64

// signIn creates a user and a session for them, returning the cookie token.
func (b *bundle) signIn(t *testing.T, displayName string) string {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("web%d_%d", time.Now().UnixNano(), userSeq.Add(1))
	u, err := testdb.Store(t).Ent.User.Create().SetUsername(name).SetUsernameNormalized(name).SetDisplayName(displayName).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	token, err := b.sessions.Create(ctx, nil, u.ID, account.SessionMeta{AuthMethods: []string{"password"}})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// failingSessions injects a database failure into session lookups.
type failingSessions struct{ err error }

func (f failingSessions) Lookup(context.Context, string) (*account.Session, error) { return nil, f.err }
func (f failingSessions) Revoke(context.Context, string) error                     { return f.err }

// readyState is the readiness check; set err to make /readyz fail.
type readyState struct {
	mu  sync.Mutex
	err error
}

func (r *readyState) check(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *readyState) set(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
}

// logBuffer collects the JSON log lines of the app.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// lines returns the log lines whose msg is msg.
func (l *logBuffer) lines(msg string) []string {
	var out []string
	for line := range strings.SplitSeq(l.String(), "\n") {
		if strings.Contains(line, `"msg":"`+msg+`"`) {
			out = append(out, line)
		}
	}
	return out
}

// client drives the app in-process through app.Test, keeping cookies like
// a browser does.
type client struct {
	t   *testing.T
	app *fiber.App
	jar *cookiejar.Jar
	// ip is this client's address as the trusted proxy reports it, so
	// per-IP rate limits of parallel tests do not add up.
	ip string
}

var clientSeq atomic.Int64

func newClient(t *testing.T, app *fiber.App) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	n := clientSeq.Add(1)
	return &client{t: t, app: app, jar: jar, ip: fmt.Sprintf("10.%d.%d.%d", n/65536%256, n/256%256, n%256)}
}

// response is a finished request with its body read.
type response struct {
	*http.Response
	body string
}

func (c *client) do(req *http.Request) response {
	c.t.Helper()
	if req.Header.Get("X-Forwarded-For") == "" {
		req.Header.Set("X-Forwarded-For", c.ip)
	}
	for _, ck := range c.jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	res, err := c.app.Test(req, -1)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	c.jar.SetCookies(req.URL, res.Cookies())
	return response{Response: res, body: string(body)}
}

func (c *client) get(path string, header ...string) response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, testBase+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	setHeaders(c.t, req, header)
	return c.do(req)
}

func (c *client) postForm(path string, form url.Values, header ...string) response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, testBase+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	setHeaders(c.t, req, header)
	return c.do(req)
}

// setCookie puts a cookie in the jar as if the site had set it.
func (c *client) setCookie(name, value string) {
	u, _ := url.Parse(testBase)
	c.jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

func (c *client) cookie(name string) string {
	u, _ := url.Parse(testBase)
	for _, ck := range c.jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func setHeaders(t *testing.T, req *http.Request, kv []string) {
	t.Helper()
	if len(kv)%2 != 0 {
		t.Fatal("headers come in name, value pairs")
	}
	for i := 0; i < len(kv); i += 2 {
		req.Header.Set(kv[i], kv[i+1])
	}
}

func wantStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body:\n%s", r.Request.Method, r.Request.URL, r.StatusCode, status, r.body)
	}
}

var errBoom = errors.New("boom: connect to postgres://admin:hunter2@db.internal failed")

// waitSMTPGreeting returns once the sink answers an SMTP client. Sink.Close
// hangs if it runs before the sink's serve goroutine has registered its
// listener (a race in devmail, reported), so every test waits for a
// greeting before it may close the sink.
func waitSMTPGreeting(t *testing.T, addr string) {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatalf("dial SMTP sink: %v", err)
	}
	if err := c.Quit(); err != nil {
		t.Fatalf("quit SMTP sink: %v", err)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
