package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/internal/config"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

const key = "0123456789abcdef0123456789abcdef"

func TestDefaults(t *testing.T) {
	dir := t.TempDir()
	c, err := config.Load(config.ModeDev, env(map[string]string{"DATA_DIR": dir}))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:8080" || c.BaseURL.String() != "http://localhost:8080" || c.SiteName != "Recovery Desk" {
		t.Fatalf("defaults: %+v", c)
	}
	if c.SLARecovery != (config.SLA{FirstResponse: 24 * time.Hour, Resolution: 120 * time.Hour}) ||
		c.SLAGeneral != (config.SLA{FirstResponse: 48 * time.Hour, Resolution: 240 * time.Hour}) ||
		c.ResetWaitingPeriod != 72*time.Hour {
		t.Fatalf("desk defaults: SLA %+v / %+v, waiting %s", c.SLARecovery, c.SLAGeneral, c.ResetWaitingPeriod)
	}
	if c.UploadMaxSize != 100<<20 {
		t.Fatalf("upload limit default %d, want 100 MiB", c.UploadMaxSize)
	}
	if len(c.SecretKey) < 32 {
		t.Fatal("dev must generate a secret key")
	}
	// The generated key is kept: a restart signs with the same key.
	again, err := config.Load(config.ModeDev, env(map[string]string{"DATA_DIR": dir}))
	if err != nil {
		t.Fatal(err)
	}
	if string(again.SecretKey) != string(c.SecretKey) {
		t.Fatal("dev secret key changed between runs")
	}
	info, err := os.Stat(filepath.Join(dir, "secret_key"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("secret_key file: %v %v", info, err)
	}
}

func TestInvalidValuesNameTheVariable(t *testing.T) {
	valid := map[string]string{"SECRET_KEY": key, "BASE_URL": "https://rd.example.org", "SMTP_URL": "smtp://relay.example.org"}
	tests := []struct {
		name, variable, value string
		mode                  config.Mode
	}{
		{"http addr without port", "HTTP_ADDR", "localhost", config.ModeServe},
		{"http addr bad port", "HTTP_ADDR", "127.0.0.1:99999", config.ModeServe},
		{"base url relative", "BASE_URL", "/recover", config.ModeServe},
		{"base url ftp", "BASE_URL", "ftp://x", config.ModeServe},
		{"short secret", "SECRET_KEY", "tooshort", config.ModeServe},
		{"imap scheme", "IMAP_URL", "http://mail.example.org", config.ModeServe},
		{"smtp no host", "SMTP_URL", "smtp://", config.ModeWorker},
		{"support address", "SUPPORT_ADDRESS", "not an address", config.ModeServe},
		{"support address with name", "SUPPORT_ADDRESS", "Support <s@example.org>", config.ModeServe},
		{"log level", "LOG_LEVEL", "loud", config.ModeServe},
		{"log format", "LOG_FORMAT", "xml", config.ModeServe},
		{"shutdown timeout", "SHUTDOWN_TIMEOUT", "-5s", config.ModeServe},
		{"workers", "WORKERS", "zero", config.ModeServe},
		{"site name", "SITE_NAME", "two\nlines", config.ModeServe},
		{"database url", "DATABASE_URL", "mysql://x", config.ModeServe},
		{"private cluster", "PRIVATE_CLUSTER", "maybe", config.ModeServe},
		{"sla without resolution", "SLA_RECOVERY", "24h", config.ModeServe},
		{"sla first reply after resolution", "SLA_GENERAL", "240h/48h", config.ModeServe},
		{"sla zero", "SLA_RECOVERY", "0s/120h", config.ModeServe},
		{"waiting period negative", "RESET_WAITING_PERIOD", "-1h", config.ModeServe},
		{"waiting period too long", "RESET_WAITING_PERIOD", "1000h", config.ModeServe},
		{"upload size unit", "UPLOAD_MAX_SIZE", "100 parsecs", config.ModeServe},
		{"upload size zero", "UPLOAD_MAX_SIZE", "0", config.ModeServe},
		{"upload size too large", "UPLOAD_MAX_SIZE", "11GiB", config.ModeServe},
		{"upload size negative", "UPLOAD_MAX_SIZE", "-5MiB", config.ModeServe},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range valid {
				m[k] = v
			}
			m[tc.variable] = tc.value
			_, err := config.Load(tc.mode, env(m))
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Var != tc.variable {
				t.Fatalf("err = %v, want a config.Error naming %s", err, tc.variable)
			}
			if !strings.Contains(err.Error(), tc.variable) {
				t.Fatalf("message %q does not name %s", err, tc.variable)
			}
		})
	}
}

func TestRequiredInProduction(t *testing.T) {
	tests := []struct {
		mode    config.Mode
		env     map[string]string
		missing string
	}{
		{config.ModeServe, map[string]string{"BASE_URL": "https://x.example"}, "SECRET_KEY"},
		{config.ModeServe, map[string]string{"SECRET_KEY": key}, "BASE_URL"},
		{config.ModeWorker, map[string]string{"SECRET_KEY": key, "BASE_URL": "https://x.example"}, "SMTP_URL"},
	}
	for _, tc := range tests {
		_, err := config.Load(tc.mode, env(tc.env))
		var ce *config.Error
		if !errors.As(err, &ce) || ce.Var != tc.missing {
			t.Errorf("mode %d: err = %v, want %s required", tc.mode, err, tc.missing)
		}
	}
	c, err := config.Load(config.ModeServe, env(map[string]string{"SECRET_KEY": key, "BASE_URL": "https://rd.example.org/", "HTTP_ADDR": "0.0.0.0:9000"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL.String() != "https://rd.example.org" || c.HTTPAddr != "0.0.0.0:9000" {
		t.Fatalf("got %s %s", c.BaseURL, c.HTTPAddr)
	}
}

// The README's configuration table lists every variable with its default.
func TestReadmeListsEveryOption(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, o := range config.Options() {
		row := "| `" + o.Name + "` |"
		i := strings.Index(readme, row)
		if i < 0 {
			t.Errorf("README has no configuration row for %s", o.Name)
			continue
		}
		line := readme[i:]
		line = line[:strings.IndexByte(line, '\n')]
		if o.Default != "" && !strings.Contains(line, "`"+o.Default+"`") {
			t.Errorf("README row for %s does not show its default %q: %s", o.Name, o.Default, line)
		}
	}
}

func TestUploadMaxSizeUnits(t *testing.T) {
	for v, want := range map[string]int64{
		"104857600": 104857600,
		"100MiB":    100 << 20,
		"100 mib":   100 << 20,
		"512KiB":    512 << 10,
		"2GiB":      2 << 30,
		"10MB":      10_000_000,
		"1.5GB":     1_500_000_000,
		"4096B":     4096,
	} {
		c, err := config.Load(config.ModeServe, env(map[string]string{"SECRET_KEY": key, "BASE_URL": "https://rd.example.org", "UPLOAD_MAX_SIZE": v}))
		if err != nil {
			t.Errorf("%s: %v", v, err)
			continue
		}
		if c.UploadMaxSize != want {
			t.Errorf("%s: %d bytes, want %d", v, c.UploadMaxSize, want)
		}
	}
}
