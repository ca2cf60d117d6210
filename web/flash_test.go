package web_test

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/recoverydesk/recoverydesk/web"
)

func TestForgedFlashIsIgnored(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	c := newClient(t, b.app)
	// A flash someone else wrote (no valid signature) must not show: it
	// would let another site put words in our mouth.
	body := base64.RawURLEncoding.EncodeToString([]byte(`{"k":"success","m":"Your account was reset","e":99999999999}`))
	c.setCookie(web.FlashCookie, body+".AAAA")

	r := c.get("/")
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	if d.hasTestID("flash") {
		t.Errorf("forged flash shown: %q", text(d.testID("flash")))
	}
	if c.cookie(web.FlashCookie) != "" {
		t.Error("forged flash cookie not cleared")
	}
}
