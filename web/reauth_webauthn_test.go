package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent/securityevent"
	"github.com/recoverydesk/recoverydesk/internal/testdb"

	"golang.org/x/net/html"
)

// postRawJSON sends body as is to a JSON endpoint, with the CSRF header
// as webauthn.js sends it, and decodes the JSON answer.
func postRawJSON(t *testing.T, u *secUser, path, body string) (response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, testBase+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", tokenFromPage(t, u.c, "/account/security"))
	r := u.c.do(req)
	out := map[string]any{}
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatalf("POST %s: status %d, not JSON: %s", path, r.StatusCode, r.body)
	}
	return r, out
}

// answerText is a JSON answer's value as text ("" when absent).
func answerText(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func TestReauthPageOffersKeysOnlyToThoseWithKeys(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})

	bare := newSecUser(t, b, secOpts{totp: true})
	r := bare.c.get("/account/reauth?next=/account/password")
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	if d.hasTestID("reauth-key") {
		t.Error("a security-key control for a user without keys")
	}
	d.testID("reauth-form")

	withKey := newSecUser(t, b, secOpts{key: true})
	r = withKey.c.get("/account/reauth?next=/account/password")
	wantStatus(t, r, http.StatusOK)
	d = parse(t, r.body)
	key := d.testID("reauth-key")
	for name, want := range map[string]string{
		"data-webauthn": "login",
		"data-begin":    "/account/reauth/webauthn/begin",
		"data-finish":   "/account/reauth/webauthn/finish?next=%2Faccount%2Fpassword",
	} {
		if got := mustAttr(t, key, name); got != want {
			t.Errorf("key control %s=%q, want %q", name, got, want)
		}
	}
	if _, hidden := attr(key, "hidden"); !hidden {
		t.Error("the key control shows without JavaScript")
	}
	if got := text(d.testID("reauth-key-button")); got != "Confirm with a security key" {
		t.Errorf("key button says %q", got)
	}
	scripts := d.all(func(n *html.Node) bool {
		src, _ := attr(n, "src")
		return n.Data == "script" && strings.Contains(src, "webauthn")
	})
	if len(scripts) != 1 {
		t.Errorf("%d webauthn scripts on the page, want 1", len(scripts))
	}
	// The password form still works as without a key.
	if formValue(t, d.testID("reauth-form"), "next") != "/account/password" {
		t.Error("the password form lost next")
	}
}

func TestReauthWithKeyEndpointsRefuse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, setupOpts{noDevMail: true})

	// No keys: nothing to begin.
	bare := newSecUser(t, b, secOpts{totp: true})
	r, out := postRawJSON(t, bare, "/account/reauth/webauthn/begin", `{}`)
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(answerText(out["error"]), "no security key") {
		t.Errorf("begin without keys: %d %v", r.StatusCode, out)
	}
	r, out = postRawJSON(t, bare, "/account/reauth/webauthn/finish", `{"id":"x"}`)
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(answerText(out["error"]), "expired") {
		t.Errorf("finish without keys or begin: %d %v", r.StatusCode, out)
	}

	u := newSecUser(t, b, secOpts{key: true})
	ageSession(t, u.sessionID, 20*time.Minute)
	r, out = postRawJSON(t, u, "/account/reauth/webauthn/begin", `{}`)
	wantStatus(t, r, http.StatusOK)
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("options Cache-Control %q", cc)
	}
	pk, _ := out["publicKey"].(map[string]any)
	if pk == nil || answerText(pk["challenge"]) == "" {
		t.Fatalf("begin answered %v, want request options", out)
	}
	if allow, _ := pk["allowCredentials"].([]any); len(allow) != 1 {
		t.Errorf("%d allowed credentials, want the user's one key", len(allow))
	}

	// Not JSON at all: refused before the ceremony is touched.
	r, out = postRawJSON(t, u, "/account/reauth/webauthn/finish?next=/account/password", `not json`)
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(answerText(out["error"]), "incomplete") {
		t.Errorf("finish with a non-JSON body: %d %v", r.StatusCode, out)
	}
	// A bad answer: not verified, recorded, and the ceremony is used up.
	r, out = postRawJSON(t, u, "/account/reauth/webauthn/finish?next=/account/password", `{"id":"x","type":"public-key"}`)
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(answerText(out["error"]), "could not be verified") || out["redirect"] != nil {
		t.Errorf("finish with a bad answer: %d %v", r.StatusCode, out)
	}
	n, err := testdb.Store(t).Ent.SecurityEvent.Query().
		Where(securityevent.UserID(u.ID), securityevent.Kind(string(account.EventLoginFailed))).Count(ctx)
	if err != nil || n != 1 {
		t.Errorf("%d failed-attempt events (%v), want 1", n, err)
	}
	r, out = postRawJSON(t, u, "/account/reauth/webauthn/finish", `{"id":"x","type":"public-key"}`)
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(answerText(out["error"]), "expired") {
		t.Errorf("finish again: %d %v", r.StatusCode, out)
	}
	if err := b.account.Security.RequireReauth(ctx, u.sessionID); err == nil {
		t.Fatal("a refused key answer re-authenticated the session")
	}

	// The per-account budget runs out: 429 with Retry-After, as JSON.
	for i := range 12 {
		if r, _ := postRawJSON(t, u, "/account/reauth/webauthn/begin", `{}`); r.StatusCode != http.StatusOK {
			t.Fatalf("begin %d: %d %s", i+1, r.StatusCode, r.body)
		}
		r, out = postRawJSON(t, u, "/account/reauth/webauthn/finish", `{"id":"x","type":"public-key"}`)
		if r.StatusCode == http.StatusTooManyRequests {
			break
		}
	}
	if r.StatusCode != http.StatusTooManyRequests || !strings.Contains(answerText(out["error"]), "Too many attempts") {
		t.Fatalf("bad key answers were not rate-limited: %d %v", r.StatusCode, out)
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s <= 0 {
		t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
	}
}
