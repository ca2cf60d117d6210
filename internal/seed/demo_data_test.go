package seed_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/ent/organization"
	"github.com/recoverydesk/recoverydesk/ent/project"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

var (
	semver      = regexp.MustCompile(`^\d+\.\d+\.\d+$`)
	tokenPrefix = regexp.MustCompile(`^rdt_[0-9a-z]{8}$`)
)

// checkProjects checks the organization, the projects and the upload
// history: names match, hashes are the filenames', and every upload was
// made by someone holding a role then, with their own token.
func checkProjects(t *testing.T, ctx context.Context, st *store.Store) {
	t.Helper()
	org, err := st.Ent.Organization.Query().Where(organization.NameNormalized("acme-labs")).
		WithMembers(func(q *ent.OrganizationMemberQuery) { q.WithUser() }).Only(ctx)
	if err != nil {
		t.Fatalf("load acme-labs: %v", err)
	}
	members := map[string]string{}
	for _, m := range org.Edges.Members {
		members[m.Edges.User.Username] = string(m.Role)
	}
	if members["bob"] != "owner" || members["erin"] != "member" {
		t.Errorf("acme-labs members are %v, want bob owner and erin member", members)
	}

	projects, err := st.Ent.Project.Query().Order(project.ByName()).
		WithRoles().
		WithReleases(func(q *ent.ReleaseQuery) { q.WithFiles() }).All(ctx)
	if err != nil {
		t.Fatalf("load projects: %v", err)
	}
	if len(projects) < 6 || len(projects) > 8 {
		t.Errorf("%d projects, want 6-8", len(projects))
	}
	orgOwned, years := 0, map[int]bool{}
	for _, p := range projects {
		if p.OrganizationID != nil {
			orgOwned++
		}
		if len(p.Edges.Roles) == 0 || len(p.Edges.Releases) == 0 {
			t.Errorf("%s: %d roles and %d releases, want some of each", p.Name, len(p.Edges.Roles), len(p.Edges.Releases))
		}
		if p.RepositoryURL == nil || !strings.HasPrefix(*p.RepositoryURL, "https://git.example.org/") || !strings.HasSuffix(*p.RepositoryURL, "/"+p.Name) {
			t.Errorf("%s: repository URL %v", p.Name, p.RepositoryURL)
		}
		for _, r := range p.Edges.Releases {
			years[r.CreatedAt.Year()] = true
			checkRelease(t, p, r)
		}
	}
	if orgOwned == 0 {
		t.Error("no project belongs to the organization")
	}
	if !years[2019] || !years[2026] || len(years) < 5 {
		t.Errorf("releases span the years %v, want 2019 through 2026", years)
	}

	// Each upload by a role holder of the project at the time, with a
	// token of the uploader's made before the upload.
	var bad int
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM release_files f
		JOIN releases r ON r.id = f.release_id
		LEFT JOIN api_tokens k ON k.id = f.api_token_id
		WHERE k.id IS NULL OR k.user_id <> f.uploader_id OR k.created_at > f.uploaded_at
		   OR NOT EXISTS (SELECT 1 FROM project_roles pr WHERE pr.project_id = r.project_id
		                  AND pr.user_id = f.uploader_id AND pr.created_at <= f.uploaded_at)`).Scan(&bad); err != nil {
		t.Fatalf("check uploads: %v", err)
	}
	if bad != 0 {
		t.Errorf("%d release files have an uploader without a role then or a token not theirs", bad)
	}
	tokens, err := st.Ent.APIToken.Query().All(ctx)
	if err != nil {
		t.Fatalf("load tokens: %v", err)
	}
	for _, k := range tokens {
		if k.Name != "CI upload" || !tokenPrefix.MatchString(k.Prefix) || len(k.TokenHash) != sha256.Size {
			t.Errorf("token %q prefix %q hash %d bytes", k.Name, k.Prefix, len(k.TokenHash))
		}
	}
}

func checkRelease(t *testing.T, p *ent.Project, r *ent.Release) {
	t.Helper()
	if !semver.MatchString(r.Version) {
		t.Errorf("%s: version %q is not semantic", p.Name, r.Version)
	}
	if n := len(r.Edges.Files); n < 1 || n > 2 {
		t.Errorf("%s %s: %d files, want 1 or 2", p.Name, r.Version, n)
	}
	for _, f := range r.Edges.Files {
		sdist := p.Name + "-" + r.Version + ".tar.gz"
		wheel := strings.ReplaceAll(p.Name, "-", "_") + "-" + r.Version + "-py3-none-any.whl"
		if f.Filename != sdist && f.Filename != wheel {
			t.Errorf("%s %s: file %q matches neither %q nor %q", p.Name, r.Version, f.Filename, sdist, wheel)
		}
		sum := sha256.Sum256([]byte(f.Filename))
		if f.Sha256 != hex.EncodeToString(sum[:]) || f.StorageKey != "demo/"+f.Filename || f.Size <= 0 {
			t.Errorf("%s: sha256 %s, storage key %q, size %d", f.Filename, f.Sha256, f.StorageKey, f.Size)
		}
		if !f.UploadedAt.Equal(r.CreatedAt) || !strings.HasPrefix(f.IP, "198.51.100.") {
			t.Errorf("%s: uploaded %s from %q, release dated %s", f.Filename, f.UploadedAt, f.IP, r.CreatedAt)
		}
	}
}

// checkCases checks erin's open recovery case and the answered general one.
func checkCases(t *testing.T, ctx context.Context, st *store.Store) {
	t.Helper()
	erin, err := st.Ent.User.Query().Where(user.UsernameNormalized("erin")).Only(ctx)
	if err != nil {
		t.Fatalf("load erin: %v", err)
	}
	sam, err := st.Ent.User.Query().Where(user.UsernameNormalized("sam")).Only(ctx)
	if err != nil {
		t.Fatalf("load sam: %v", err)
	}
	cases, err := st.Ent.SupportCase.Query().Order(supportcase.ByCreatedAt()).
		WithParticipants().
		WithMessages(func(q *ent.MessageQuery) { q.Order(message.ByReceivedAt()) }).All(ctx)
	if err != nil {
		t.Fatalf("load cases: %v", err)
	}
	var recovery, general *ent.SupportCase
	for _, c := range cases {
		if ref, ok := desk.NormalizeReference(c.Reference); !ok || ref != c.Reference {
			t.Errorf("case reference %q is not canonical", c.Reference)
		}
		if len(c.StatusTokenHash) != sha256.Size {
			t.Errorf("%s: status token hash of %d bytes", c.Reference, len(c.StatusTokenHash))
		}
		switch c.Kind {
		case supportcase.KindRecovery:
			recovery = c
		case supportcase.KindGeneral:
			general = c
		}
	}
	if len(cases) != 2 || recovery == nil || general == nil {
		t.Fatalf("want erin's recovery case and one general case, have %d cases", len(cases))
	}

	c := recovery
	if c.Status != supportcase.StatusNew || c.AccountID == nil || *c.AccountID != erin.ID || c.RequesterEmailNormalized != "erin@example.org" {
		t.Errorf("%s: status %s, account %v, requester %s; want a new case about erin from erin@example.org", c.Reference, c.Status, c.AccountID, c.RequesterEmail)
	}
	if !c.Intake.HasPassword || c.Intake.HasRecoveryCodes || c.Intake.Explanation == "" || len(c.Intake.ClaimedProjects) == 0 {
		t.Errorf("%s: intake %+v", c.Reference, c.Intake)
	}
	for _, name := range c.Intake.ClaimedProjects {
		if ok, err := st.Ent.Project.Query().Where(project.NameNormalized(name)).Exist(ctx); err != nil || !ok {
			t.Errorf("%s: claimed project %q does not exist (err %v)", c.Reference, name, err)
		}
	}
	// The explanation names erin's latest upload: private-ish knowledge the
	// evidence jobs can check, so it must stay true to the upload history.
	var latest string
	if err := st.Pool.QueryRow(ctx, `SELECT p.name || ' ' || r.version FROM release_files f
		JOIN releases r ON r.id = f.release_id JOIN projects p ON p.id = r.project_id
		WHERE f.uploader_id = $1 ORDER BY f.uploaded_at DESC LIMIT 1`, erin.ID).Scan(&latest); err != nil {
		t.Fatalf("erin's latest upload: %v", err)
	}
	if !strings.Contains(strings.Join(strings.Fields(c.Intake.Explanation), " "), latest) {
		t.Errorf("%s: explanation does not name erin's latest upload %q", c.Reference, latest)
	}
	if len(c.Edges.Participants) != 1 || c.Edges.Participants[0].Role != "requester" || c.Edges.Participants[0].EmailNormalized != "erin@example.org" {
		t.Errorf("%s: participants %v", c.Reference, c.Edges.Participants)
	}
	if m := c.Edges.Messages; len(m) != 1 || m[0].Direction != message.DirectionInbound || m[0].Channel != message.ChannelWeb ||
		m[0].Visibility != message.VisibilityPublic || m[0].BodyText != c.Intake.Explanation {
		t.Errorf("%s: want one public inbound web message with the explanation, have %v", c.Reference, m)
	}

	c = general
	if c.Status != supportcase.StatusWaitingOnRequester || c.AccountID != nil {
		t.Errorf("%s: status %s, account %v; want waiting_on_requester from an outsider", c.Reference, c.Status, c.AccountID)
	}
	m := c.Edges.Messages
	if len(m) != 2 || m[0].Direction != message.DirectionInbound || m[1].Direction != message.DirectionOutbound ||
		m[1].AuthorID == nil || *m[1].AuthorID != sam.ID || m[1].InReplyTo == nil || *m[1].InReplyTo != m[0].MessageIDHeader {
		t.Errorf("%s: want a question and sam's reply to it, have %v", c.Reference, m)
	}
}
