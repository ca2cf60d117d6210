package desk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/recoverydesk/recoverydesk/desk/mailtemplates"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/assessment"
	"github.com/recoverydesk/recoverydesk/ent/evidenceitem"
	"github.com/recoverydesk/recoverydesk/ent/schema/types"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// Default lifetimes of the challenges.
const (
	DefaultEmailChallengeTTL = 72 * time.Hour
	DefaultRepoChallengeTTL  = 7 * 24 * time.Hour
)

// EvidenceOptions tune the evidence service; zero values mean defaults.
type EvidenceOptions struct {
	// EmailChallengeTTL and RepoChallengeTTL are how long challenges stay
	// open.
	EmailChallengeTTL, RepoChallengeTTL time.Duration
	// Branches looks for challenge branches; nil means git ls-remote.
	Branches BranchFinder
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Evidence runs the ownership-evidence jobs, keeps each case's assessment
// current, and answers the challenges.
type Evidence struct {
	st       *store.Store
	outbox   *mailbox.Outbox
	signer   *mailbox.MessageIDSigner
	tmpl     *mailtemplates.Set
	siteName string
	baseURL  *url.URL
	branches BranchFinder
	now      func() time.Time
	emailTTL time.Duration
	repoTTL  time.Duration
}

// NewEvidence returns the evidence service. baseURL is the site's public
// URL, which challenge links start with. It panics only if the embedded
// mail templates do not parse, which the tests rule out.
func NewEvidence(st *store.Store, outbox *mailbox.Outbox, signer *mailbox.MessageIDSigner, siteName string, baseURL *url.URL, opts EvidenceOptions) *Evidence {
	tmpl, err := mailtemplates.Parse()
	if err != nil {
		panic(err)
	}
	e := &Evidence{
		st: st, outbox: outbox, signer: signer, tmpl: tmpl, siteName: siteName, baseURL: baseURL,
		branches: opts.Branches, now: opts.Now,
		emailTTL: opts.EmailChallengeTTL, repoTTL: opts.RepoChallengeTTL,
	}
	if e.branches == nil {
		e.branches = GitLsRemote{}
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.emailTTL <= 0 {
		e.emailTTL = DefaultEmailChallengeTTL
	}
	if e.repoTTL <= 0 {
		e.repoTTL = DefaultRepoChallengeTTL
	}
	return e
}

// newItem is an evidence item a job wants stored.
type newItem struct {
	kind     string
	strength Strength
	source   string
	// key identifies the fact, so that storing it twice stores it once.
	key     string
	finding types.Finding
}

// record stores items for case caseID in tx, skipping those already
// stored, and brings the assessment up to date. It locks the case row
// first, so jobs of one case that finish together assess one after the
// other.
func (e *Evidence) record(ctx context.Context, tx *store.Tx, caseID int, items []newItem) error {
	c, err := lockCase(ctx, tx, caseID)
	if err != nil {
		return err
	}
	now := e.now()
	for _, it := range items {
		err := tx.Ent.EvidenceItem.Create().
			SetCaseID(caseID).
			SetKind(it.kind).
			SetStrength(evidenceitem.Strength(it.strength)).
			SetSource(it.source).
			SetDedupeKey(it.key).
			SetFinding(it.finding).
			SetCreatedAt(now).
			OnConflictColumns(evidenceitem.FieldCaseID, evidenceitem.FieldDedupeKey).
			DoNothing().
			Exec(ctx)
		if err != nil && !isNoRows(err) {
			return fmt.Errorf("desk: store %s evidence for case %d: %w", it.kind, caseID, err)
		}
	}
	return e.reassess(ctx, tx, c)
}

// lockCase reads the case for update.
func lockCase(ctx context.Context, tx *store.Tx, caseID int) (*ent.SupportCase, error) {
	c, err := tx.Ent.SupportCase.Query().Where(supportcase.ID(caseID)).ForUpdate().Only(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: lock case %d: %w", caseID, err)
	}
	return c, nil
}

// reassess recomputes the assessment of case c and stores it as a new
// version when the recommendation or its reasons changed. The caller
// holds the case's row lock.
func (e *Evidence) reassess(ctx context.Context, tx *store.Tx, c *ent.SupportCase) error {
	caseID := c.ID
	rows, err := tx.Ent.EvidenceItem.Query().
		Where(evidenceitem.CaseID(caseID)).
		Order(ent.Asc(evidenceitem.FieldCreatedAt), ent.Asc(evidenceitem.FieldID)).
		All(ctx)
	if err != nil {
		return fmt.Errorf("desk: assess case %d: %w", caseID, err)
	}
	now := e.now()
	got := Assess(currentItems(rows), c.CreatedAt)
	last, err := tx.Ent.Assessment.Query().
		Where(assessment.CaseID(caseID)).
		Order(ent.Desc(assessment.FieldVersion)).
		First(ctx)
	version := 1
	switch {
	case err == nil:
		if string(last.Recommendation) == string(got.Recommendation) && slices.Equal(last.Reasons, got.Reasons) {
			return nil
		}
		version = last.Version + 1
	case !ent.IsNotFound(err):
		return fmt.Errorf("desk: assess case %d: %w", caseID, err)
	}
	if err := tx.Ent.Assessment.Create().
		SetCaseID(caseID).
		SetVersion(version).
		SetRecommendation(assessment.Recommendation(got.Recommendation)).
		SetReasons(got.Reasons).
		SetCreatedAt(now).
		Exec(ctx); err != nil {
		return fmt.Errorf("desk: store assessment %d of case %d: %w", version, caseID, err)
	}
	risk := 0
	for _, r := range rows {
		if r.Strength == evidenceitem.StrengthRedFlag {
			risk++
		}
	}
	if err := tx.Ent.SupportCase.UpdateOneID(caseID).
		SetRecommendation(string(got.Recommendation)).
		SetRisk(risk).
		Exec(ctx); err != nil {
		return fmt.Errorf("desk: assess case %d: %w", caseID, err)
	}
	details := map[string]any{"version": version, "recommendation": string(got.Recommendation)}
	if version > 1 {
		details["previous"] = string(last.Recommendation)
	}
	return caseEvent(ctx, tx, caseID, nil, "assessment_changed", details, now)
}

// currentItems turns stored rows into the assessment's items. Only the
// newest account match counts: an older one may say "no account" from
// before the account was linked.
func currentItems(rows []*ent.EvidenceItem) []Item {
	lastMatch := -1
	for i, r := range rows {
		if r.Kind == KindAccountMatch {
			lastMatch = i
		}
	}
	items := make([]Item, 0, len(rows))
	for i, r := range rows {
		if r.Kind == KindAccountMatch && i != lastMatch {
			continue
		}
		items = append(items, itemOf(r))
	}
	return items
}

func itemOf(r *ent.EvidenceItem) Item {
	return Item{Kind: r.Kind, Strength: Strength(r.Strength), Source: r.Source, Finding: r.Finding, RecordedAt: r.CreatedAt}
}

// caseAccount returns the case and its linked account (nil when none is
// linked yet).
func caseAccount(ctx context.Context, client *ent.Client, caseID int) (*ent.SupportCase, *ent.User, error) {
	c, err := client.SupportCase.Query().Where(supportcase.ID(caseID)).WithAccount().Only(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("desk: load case %d: %w", caseID, err)
	}
	return c, c.Edges.Account, nil
}

// storeItems records items in a transaction of their own.
func (e *Evidence) storeItems(ctx context.Context, caseID int, items []newItem) error {
	return e.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		return e.record(ctx, tx, caseID, items)
	})
}

// isNoRows is how an insert that did nothing on conflict reports it.
func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

func boolPtr(b bool) *bool { return &b }

func timePtr(t time.Time) *time.Time { return &t }
