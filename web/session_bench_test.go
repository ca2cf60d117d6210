package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/internal/config"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/mailbox"
	"github.com/recoverydesk/recoverydesk/web"
)

// BenchmarkSessionMiddleware sends requests through the real app (app.Test,
// in memory). "probe" is GET /healthz, which runs before the session
// middleware: the cost of the app and the test transport alone.
// "signed-out" is GET / without a session cookie; "signed-in" is GET / with
// a valid session, so loadSession looks the session up in PostgreSQL and
// forceEnrolment checks enrolment. Both carry a device cookie, so
// ensureDevice creates none. signed-in minus signed-out is what a signed-in
// request pays for its session.
func BenchmarkSessionMiddleware(b *testing.B) {
	app, sessions := benchApp(b)
	ctx := context.Background()
	name := fmt.Sprintf("bench%d", time.Now().UnixNano())
	u, err := testdb.Store(b).Ent.User.Create().SetUsername(name).SetUsernameNormalized(name).SetDisplayName("Bench").Save(ctx)
	if err != nil {
		b.Fatal(err)
	}
	token, err := sessions.Create(ctx, nil, u.ID, account.SessionMeta{AuthMethods: []string{"password", "totp"}})
	if err != nil {
		b.Fatal(err)
	}
	device, err := account.NewDeviceToken()
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name, path string
		cookies    []*http.Cookie
		want       string // in the body
	}{
		{"probe", "/healthz", nil, ""},
		{"signed-out", "/", []*http.Cookie{{Name: web.DeviceCookie, Value: device}}, ""},
		{"signed-in", "/", []*http.Cookie{{Name: web.DeviceCookie, Value: device}, {Name: web.SessionCookie, Value: token}}, "Bench"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, c.path, nil)
				for _, k := range c.cookies {
					req.AddCookie(k)
				}
				resp, err := app.Test(req, -1)
				if err != nil {
					b.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(c.want)) {
					b.Fatalf("GET %s: %d %v", c.path, resp.StatusCode, err)
				}
			}
		})
	}
}

// benchApp is the app with only the dependencies a page like / needs: the
// web tests' setup takes a *testing.T and also starts the dev mail servers.
func benchApp(b *testing.B) (*fiber.App, *account.Sessions) {
	b.Helper()
	st := testdb.Store(b)
	base, _ := url.Parse(testBase)
	cfg := config.Config{SiteName: testSite, BaseURL: base, SecretKey: bytes.Repeat([]byte("k"), 32), SupportAddress: testSupport, Mode: config.ModeDev}
	ob, err := mailbox.NewOutbox(mailbox.OutboxConfig{Client: st.Ent, From: mail.Address{Address: cfg.SupportAddress}})
	if err != nil {
		b.Fatal(err)
	}
	acct, err := account.NewServices(account.ServicesConfig{Store: st, Outbox: ob, SiteName: cfg.SiteName, BaseURL: cfg.BaseURL, Params: &cheapPasswords})
	if err != nil {
		b.Fatal(err)
	}
	app, err := web.New(web.Deps{
		Config:   cfg,
		Logger:   slog.New(slog.DiscardHandler),
		Sessions: acct.Sessions,
		Account:  acct,
		Ready:    func(context.Context) error { return nil },
	})
	if err != nil {
		b.Fatal(err)
	}
	return app, acct.Sessions
}
