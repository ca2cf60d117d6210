package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/resetrequest"
	"github.com/recoverydesk/recoverydesk/ent/totpcredential"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/web"
)

// TestEnrolmentForcedAfterReset runs a 2FA reset on an account and signs
// its owner in with the password: every page but the 2FA setup sends them
// there until they enrol an authenticator app; then they go on.
func TestEnrolmentForcedAfterReset(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, setupOpts{noDevMail: true})
	db := testdb.Store(t).Ent
	owner := newSecUser(t, b, secOpts{totp: true})
	caseID, ref := decisionCase(t, owner.ID, desk.RecommendApprove)
	admin := keySession(t, b, newStaff(t, b, user.StaffRoleAdmin))
	wantStatus(t, deskPost(t, admin, "/desk/cases/"+ref+"/approve", url.Values{"approve_reason": {"Proven."}}), http.StatusSeeOther)

	// The job, when the waiting period is over.
	_, _, later := newDeskTriage(t, b.cfg, desk.EvidenceOptions{}, desk.TriageOptions{Now: func() time.Time { return time.Now().Add(73 * time.Hour) }})
	rr := db.ResetRequest.Query().Where(resetrequest.CaseID(caseID)).OnlyX(ctx)
	if err := later.ExecuteReset(ctx, rr.ID); err != nil {
		t.Fatal(err)
	}
	// The old session is gone.
	if r := owner.c.get("/projects/"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") == "/account/2fa/totp" {
		t.Fatalf("old session after the reset: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}

	c := newClient(t, b.app)
	loginWantRedirect(t, loginPassword(t, c, owner.Username, owner.password, "/projects/"), "/account/2fa/totp")
	for _, path := range []string{"/", "/projects/", "/desk/", "/account/password", "/recover"} {
		r := c.get(path)
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/account/2fa/totp" {
			t.Errorf("GET %s before enrolment: %d to %q, want 303 to the 2FA setup", path, r.StatusCode, r.Header.Get("Location"))
		}
	}
	for _, path := range []string{"/account/security", "/account/2fa/totp", "/healthz"} {
		wantStatus(t, c.get(path), http.StatusOK)
	}

	// Enrol the authenticator app.
	wantStatus(t, c.get("/account/2fa/totp"), http.StatusOK)
	pending := db.TOTPCredential.Query().Where(totpcredential.UserID(owner.ID)).OnlyX(ctx)
	code := account.TOTPCode(pending.Secret, account.TOTPStep(time.Now()))
	r := c.postForm("/account/2fa/totp", url.Values{web.CSRFField: {tokenFromPage(t, c, "/account/2fa/totp")}, "code": {code}})
	wantStatus(t, r, http.StatusOK)
	wantStatus(t, c.get("/projects/"), http.StatusOK)
	if db.User.GetX(ctx, owner.ID).MustEnroll2fa {
		t.Error("the enrolment flag is still set after enrolling")
	}
}
