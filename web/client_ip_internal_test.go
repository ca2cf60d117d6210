package web

import (
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// The client is the rightmost X-Forwarded-For entry a trusted proxy did
// not add itself; what a client writes to the left of its address does
// not change who it is.
func TestClientIP(t *testing.T) {
	cases := []struct {
		name    string
		proxies []string
		xff     string
		want    string
	}{
		{"no proxies: the socket, whatever the header says", nil, "203.0.113.9", "0.0.0.0"},
		{"trusted proxy names the client", []string{"0.0.0.0"}, "203.0.113.9", "203.0.113.9"},
		{"client prepends a made-up address", []string{"0.0.0.0"}, "198.51.100.1, 203.0.113.9", "203.0.113.9"},
		{"chain of trusted proxies is skipped", []string{"0.0.0.0", "10.0.0.0/8"}, "203.0.113.9, 10.1.2.3, 10.9.9.9", "203.0.113.9"},
		{"garbage stops the walk", []string{"0.0.0.0", "10.0.0.0/8"}, "203.0.113.9, not-an-ip, 10.1.2.3", "0.0.0.0"},
		{"no header from a trusted proxy: the proxy", []string{"0.0.0.0"}, "", "0.0.0.0"},
		{"IPv6 client", []string{"0.0.0.0"}, "2001:db8::1", "2001:db8::1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := &handler{proxies: parseProxies(tc.proxies)}
			app := fiber.New()
			app.Get("/", func(c *fiber.Ctx) error { return c.SendString(h.clientIP(c)) })
			req := httptest.NewRequest("GET", "/", nil)
			if tc.xff != "" {
				req.Header.Set("X-Forwarded-For", tc.xff)
			}
			res, err := app.Test(req)
			if err != nil {
				t.Fatal(err)
			}
			var buf [64]byte
			n, _ := res.Body.Read(buf[:])
			if got := string(buf[:n]); got != tc.want {
				t.Errorf("clientIP = %q, want %q", got, tc.want)
			}
		})
	}
}
