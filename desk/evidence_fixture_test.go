package desk_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/assessment"
	"github.com/recoverydesk/recoverydesk/ent/evidenceitem"
	"github.com/recoverydesk/recoverydesk/ent/organizationmember"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/projectrole"
	"github.com/recoverydesk/recoverydesk/ent/schema/types"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/internal/ratelimit"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// accountBorn is when seeded accounts were made (and their first addresses
// verified), well before any case.
var accountBorn = time.Date(2019, 3, 14, 10, 0, 0, 0, time.UTC)

// evFixture is an Evidence service and an Intake sharing one store and
// outbox, with the clock of the Evidence chosen by the test.
type evFixture struct {
	st     *store.Store
	ev     *desk.Evidence
	in     *desk.Intake
	outbox *mailbox.Outbox
	signer *mailbox.MessageIDSigner
}

func newEvidence(t *testing.T) evFixture {
	t.Helper()
	st := testdb.Store(t)
	ob, err := mailbox.NewOutbox(mailbox.OutboxConfig{Client: st.Ent, From: mail.Address{Name: "Desk", Address: "support@desk.test"}})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := mailbox.NewMessageIDSigner(bytes.Repeat([]byte("s"), 32), "desk.test")
	if err != nil {
		t.Fatal(err)
	}
	fx := evFixture{st: st, outbox: ob, signer: signer}
	fx.ev = fx.evidenceAt(nil)
	base, _ := url.Parse(testBase)
	fx.in = desk.NewIntake(st, ob, signer, ratelimit.New(st.Pool, nil), "Recovery Desk Test", base, nil)
	return fx
}

// evidenceAt is another Evidence on the same store with clock now (nil:
// the real clock), e.g. one that lives after a challenge expired.
func (fx evFixture) evidenceAt(now func() time.Time) *desk.Evidence {
	base, _ := url.Parse(testBase)
	return desk.NewEvidence(fx.st, fx.outbox, fx.signer, "Recovery Desk Test", base, desk.EvidenceOptions{Now: now})
}

// origin is a fresh client address, so the per-IP limit never trips.
func origin() desk.Origin {
	n := seq.Add(1)
	return desk.Origin{IP: fmt.Sprintf("10.%d.%d.%d", n/65536%256, n/256%256, n%256), UserAgent: "evidence-test"}
}

// seeded is an account created with the same tables the index uses.
type seeded struct {
	t       *testing.T
	st      *store.Store
	User    *ent.User
	Primary string
}

// seedAccount creates an account made on accountBorn with one verified
// primary address, <username>@example.org.
func seedAccount(t *testing.T, st *store.Store) *seeded {
	t.Helper()
	name := unique("acct")
	return seedAccountWith(t, st, name, name+"@example.org")
}

// seedAccountWith is seedAccount with a chosen username and primary address.
func seedAccountWith(t *testing.T, st *store.Store, username, primary string) *seeded {
	t.Helper()
	ctx := context.Background()
	u, err := st.Ent.User.Create().
		SetUsername(username).
		SetUsernameNormalized(account.NormalizeUsername(username)).
		SetCreatedAt(accountBorn).
		SetUpdatedAt(accountBorn).
		Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a := &seeded{t: t, st: st, User: u, Primary: primary}
	a.addEmail(primary, true, &accountBorn)
	return a
}

// addEmail adds an address; verifiedAt nil leaves it unverified.
func (a *seeded) addEmail(address string, primary bool, verifiedAt *time.Time) {
	a.t.Helper()
	err := a.st.Ent.EmailAddress.Create().
		SetUserID(a.User.ID).
		SetAddress(address).
		SetAddressNormalized(account.NormalizeEmail(address)).
		SetPrimary(primary).
		SetNillableVerifiedAt(verifiedAt).
		SetCreatedAt(accountBorn).
		Exec(context.Background())
	if err != nil {
		a.t.Fatal(err)
	}
}

// addTOTP gives the account a confirmed authenticator app.
func (a *seeded) addTOTP() {
	a.t.Helper()
	err := a.st.Ent.TOTPCredential.Create().
		SetUserID(a.User.ID).
		SetSecret([]byte("12345678901234567890")).
		SetConfirmedAt(accountBorn).
		SetCreatedAt(accountBorn).
		Exec(context.Background())
	if err != nil {
		a.t.Fatal(err)
	}
}

// addWebAuthn gives the account a security key, or a passkey when
// discoverable.
func (a *seeded) addWebAuthn(discoverable bool) {
	a.t.Helper()
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	err := a.st.Ent.WebAuthnCredential.Create().
		SetUserID(a.User.ID).
		SetName("YubiKey").
		SetCredentialID(id).
		SetPublicKey([]byte("public key")).
		SetDiscoverable(discoverable).
		SetCreatedAt(accountBorn).
		Exec(context.Background())
	if err != nil {
		a.t.Fatal(err)
	}
}

// addProject creates a project (repoURL "" for none) in which the account
// has role since the given time; role "" gives it no role.
func (a *seeded) addProject(name string, role projectrole.Role, since time.Time, repoURL string) *ent.Project {
	a.t.Helper()
	ctx := context.Background()
	create := a.st.Ent.Project.Create().
		SetName(name).
		SetNameNormalized(account.NormalizeProjectName(name)).
		SetCreatedAt(since)
	if repoURL != "" {
		create.SetRepositoryURL(repoURL)
	}
	p, err := create.Save(ctx)
	if err != nil {
		a.t.Fatal(err)
	}
	if role != "" {
		if err := a.st.Ent.ProjectRole.Create().
			SetProjectID(p.ID).SetUserID(a.User.ID).SetRole(role).SetCreatedAt(since).
			Exec(ctx); err != nil {
			a.t.Fatal(err)
		}
	}
	return p
}

// addUpload uploads one sdist of project p, version, by the account at at.
func (a *seeded) addUpload(p *ent.Project, version string, at time.Time) {
	a.t.Helper()
	ctx := context.Background()
	rel, err := a.st.Ent.Release.Create().SetProjectID(p.ID).SetVersion(version).SetCreatedAt(at).Save(ctx)
	if err != nil {
		a.t.Fatal(err)
	}
	filename := fmt.Sprintf("%s-%s.tar.gz", account.NormalizeProjectName(p.Name), version)
	sum := sha256.Sum256([]byte(filename))
	if err := a.st.Ent.ReleaseFile.Create().
		SetReleaseID(rel.ID).
		SetFilename(filename).
		SetSize(1234).
		SetSha256(hex.EncodeToString(sum[:])).
		SetPackageType("sdist").
		SetUploadedAt(at).
		SetUploaderID(a.User.ID).
		SetStorageKey("files/" + hex.EncodeToString(sum[:8])).
		Exec(ctx); err != nil {
		a.t.Fatal(err)
	}
}

// joinOrg creates organization name with the account as a member since
// the given time.
func (a *seeded) joinOrg(name string, role organizationmember.Role, since time.Time) {
	a.t.Helper()
	ctx := context.Background()
	o, err := a.st.Ent.Organization.Create().
		SetName(name).SetNameNormalized(strings.ToLower(name)).SetCreatedAt(since).
		Save(ctx)
	if err != nil {
		a.t.Fatal(err)
	}
	if err := a.st.Ent.OrganizationMember.Create().
		SetOrganizationID(o.ID).SetUserID(a.User.ID).SetRole(role).SetCreatedAt(since).
		Exec(ctx); err != nil {
		a.t.Fatal(err)
	}
}

// event records a security event of the account at at.
func (a *seeded) event(kind account.EventKind, at time.Time, details map[string]any) {
	a.t.Helper()
	create := a.st.Ent.SecurityEvent.Create().
		SetUserID(a.User.ID).SetKind(string(kind)).SetIP("198.51.100.7").SetUserAgent("test").SetCreatedAt(at)
	if details != nil {
		create.SetDetails(details)
	}
	if err := create.Exec(context.Background()); err != nil {
		a.t.Fatal(err)
	}
}

// filed is a case opened through the public form.
type filed struct {
	ID          int
	Reference   string
	StatusToken string
}

// recoveryForm is a valid form for the account's username and contact.
func recoveryForm(username, contact string) desk.RecoveryForm {
	return desk.RecoveryForm{
		Username:     username,
		ContactEmail: contact,
		Name:         "Ada Lovelace",
		HasPassword:  true,
		Explanation:  "I lost my phone with the authenticator app and have no recovery codes.",
	}
}

// submit files f through the Intake and returns the case.
func (fx evFixture) submit(t *testing.T, f desk.RecoveryForm) filed {
	t.Helper()
	ctx := context.Background()
	got, err := fx.in.Submit(ctx, f, origin())
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	c, err := fx.st.Ent.SupportCase.Query().Where(supportcase.Reference(got.Reference)).Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(got.StatusURL)
	if err != nil {
		t.Fatal(err)
	}
	return filed{ID: c.ID, Reference: got.Reference, StatusToken: u.Query().Get("token")}
}

// insertCase creates a case row directly (as an email-opened case would
// be), without a username unless claimed is set, and enqueues no jobs.
func (fx evFixture) insertCase(t *testing.T, contact, claimed string, intake types.CaseIntake) filed {
	t.Helper()
	ctx := context.Background()
	ref, err := desk.NewReference()
	if err != nil {
		t.Fatal(err)
	}
	hash := sha256.Sum256([]byte(unique("token")))
	now := time.Now()
	create := fx.st.Ent.SupportCase.Create().
		SetReference(ref).
		SetKind(supportcase.KindRecovery).
		SetSubject("Lost my account").
		SetRequesterEmail(contact).
		SetRequesterEmailNormalized(account.NormalizeEmail(contact)).
		SetIntake(intake).
		SetStatusTokenHash(hash[:]).
		SetLastActivityAt(now).
		SetCreatedAt(now).
		SetUpdatedAt(now)
	if claimed != "" {
		create.SetClaimedUsername(claimed)
	}
	c, err := create.Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return filed{ID: c.ID, Reference: ref}
}

// run runs evidence jobs in order and fails on any error.
func run(t *testing.T, ev *desk.Evidence, jobs ...desk.EvidenceArgs) {
	t.Helper()
	for _, j := range jobs {
		if err := ev.Run(context.Background(), j); err != nil {
			t.Fatalf("%s: %v", j.Kind(), err)
		}
	}
}

// allJobs are the evidence jobs a new case gets, in a sensible order.
func allJobs(caseID int) []desk.EvidenceArgs {
	return []desk.EvidenceArgs{
		desk.AccountMatchArgs{CaseID: caseID},
		desk.ClaimedProjectsArgs{CaseID: caseID},
		desk.UploadHistoryArgs{CaseID: caseID},
		desk.AccountHistoryArgs{CaseID: caseID},
		desk.PrivateKnowledgeArgs{CaseID: caseID},
		desk.EmailChallengeArgs{CaseID: caseID},
	}
}

// caseItems reads the case's evidence items, optionally of one kind.
func caseItems(t *testing.T, st *store.Store, caseID int, kind string) []*ent.EvidenceItem {
	t.Helper()
	q := st.Ent.EvidenceItem.Query().Where(evidenceitem.CaseID(caseID))
	if kind != "" {
		q.Where(evidenceitem.Kind(kind))
	}
	rows, err := q.Order(ent.Asc(evidenceitem.FieldID)).All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// onlyItem is the one item of kind, failing unless there is exactly one.
func onlyItem(t *testing.T, st *store.Store, caseID int, kind string) *ent.EvidenceItem {
	t.Helper()
	rows := caseItems(t, st, caseID, kind)
	if len(rows) != 1 {
		t.Fatalf("%d %s items, want 1: %s", len(rows), kind, describeItems(rows))
	}
	return rows[0]
}

func describeItems(rows []*ent.EvidenceItem) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "\n  %s/%s match=%v: %s", r.Kind, r.Strength, matchOf(r), r.Finding.Summary)
	}
	return b.String()
}

// matchOf is an item's Match as "true", "false" or "nil".
func matchOf(r *ent.EvidenceItem) string {
	if r.Finding.Match == nil {
		return "nil"
	}
	return strconv.FormatBool(*r.Finding.Match)
}

// latest is the case's newest assessment; the case must have one.
func latest(t *testing.T, st *store.Store, caseID int) *ent.Assessment {
	t.Helper()
	a, err := st.Ent.Assessment.Query().
		Where(assessment.CaseID(caseID)).
		Order(ent.Desc(assessment.FieldVersion)).
		First(context.Background())
	if err != nil {
		t.Fatalf("assessment of case %d: %v", caseID, err)
	}
	return a
}

// versions counts the case's assessment versions.
func versions(t *testing.T, st *store.Store, caseID int) int {
	t.Helper()
	return st.Ent.Assessment.Query().Where(assessment.CaseID(caseID)).CountX(context.Background())
}

// mails are the case's queued mails of purpose, oldest first.
func mails(t *testing.T, st *store.Store, caseID int, purpose string) []*ent.OutboundMail {
	t.Helper()
	rows, err := st.Ent.OutboundMail.Query().
		Where(outboundmail.CaseID(caseID), outboundmail.Purpose(purpose)).
		Order(ent.Asc(outboundmail.FieldID)).
		All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

var challengeLink = regexp.MustCompile(regexp.QuoteMeta(testBase+desk.PathEmailChallenge) + `\?token=([A-Za-z0-9_-]+)`)

// linkToken extracts the challenge token from a challenge mail's body.
func linkToken(t *testing.T, m *ent.OutboundMail) string {
	t.Helper()
	sub := challengeLink.FindStringSubmatch(m.BodyText)
	if sub == nil {
		t.Fatalf("no challenge link in the mail to %s:\n%s", m.ToAddress, m.BodyText)
	}
	return sub[1]
}

// challengeTokens maps each address mailed a challenge for the case to
// the token in its link.
func challengeTokens(t *testing.T, st *store.Store, caseID int) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range mails(t, st, caseID, desk.MailEmailChallenge) {
		out[m.ToAddress] = linkToken(t, m)
	}
	return out
}

// jobKinds lists the kinds of the River jobs whose metadata names the
// case, sorted, with repeats.
func jobKinds(t *testing.T, st *store.Store, caseID int) []string {
	t.Helper()
	res, err := st.Jobs.JobList(context.Background(),
		river.NewJobListParams().Metadata(`{"case_id":`+strconv.Itoa(caseID)+`}`).First(100))
	if err != nil {
		t.Fatal(err)
	}
	kinds := make([]string, len(res.Jobs))
	for i, j := range res.Jobs {
		kinds[i] = j.Kind
	}
	slices.Sort(kinds)
	return kinds
}

// caseRow reads a case.
func caseRow(t *testing.T, st *store.Store, caseID int) *ent.SupportCase {
	t.Helper()
	c, err := st.Ent.SupportCase.Get(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ymd writes a date as the evidence summaries do (in the zone the
// database hands times back in).
func ymd(at time.Time) string { return at.In(time.Local).Format("2006-01-02") }
