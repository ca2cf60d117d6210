package desk

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/desk/mailtemplates"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/caseparticipant"
	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/ent/schema/types"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/ratelimit"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// ErrSpam is Submit's answer when the honeypot field was filled in: only a
// bot does that. Nothing is stored or sent; web shows the usual success
// page (without a link), so the bot learns nothing.
var ErrSpam = errors.New("desk: submission looks automated")

// ErrNotFound answers a status link whose reference or token is wrong, the
// same either way, so a guess learns nothing about which cases exist.
var ErrNotFound = errors.New("desk: no case at this link")

// Intake opens recovery cases from the public form and serves the
// requester's status page.
type Intake struct {
	st       *store.Store
	outbox   *mailbox.Outbox
	signer   *mailbox.MessageIDSigner
	limits   *ratelimit.Limiter
	siteName string
	baseURL  *url.URL
	now      func() time.Time
	tmpl     *mailtemplates.Set
	sla      SLAPolicy
}

// NewIntake returns an Intake; baseURL is the site's absolute public URL,
// which status links start with; now may be nil (time.Now). It panics only
// if the embedded mail templates do not parse, which the tests rule out.
func NewIntake(st *store.Store, outbox *mailbox.Outbox, signer *mailbox.MessageIDSigner, limits *ratelimit.Limiter, siteName string, baseURL *url.URL, now func() time.Time) *Intake {
	tmpl, err := mailtemplates.Parse()
	if err != nil {
		panic(err)
	}
	if now == nil {
		now = time.Now
	}
	return &Intake{st: st, outbox: outbox, signer: signer, limits: limits, siteName: siteName, baseURL: baseURL, now: now, tmpl: tmpl, sla: DefaultSLA}
}

// SetSLA sets the deadlines new cases get; call it before serving.
func (in *Intake) SetSLA(p SLAPolicy) { in.sla = p.withDefaults() }

// Origin says where a submission came from.
type Origin struct {
	IP        string
	UserAgent string
}

// Submitted is what the requester keeps after filing the form.
type Submitted struct {
	// Reference is the case's public reference, like "RD-7K3F9Q".
	Reference string
	// StatusURL is the secret status link (absolute).
	StatusURL string
}

// maxReferenceTries bounds the retries after a reference collision, which
// with 887 million references practically never happens twice.
const maxReferenceTries = 5

// Submit opens a recovery case from the public form: the case, its
// requester as participant, the explanation as the first public message
// and the acknowledgement mail, all in one transaction. Invalid input gives
// FieldErrors; a filled honeypot ErrSpam; too many submissions from the
// client's address or for the contact address a *RateLimitedError.
func (in *Intake) Submit(ctx context.Context, f RecoveryForm, at Origin) (Submitted, error) {
	if f.Honeypot != "" {
		return Submitted{}, ErrSpam
	}
	n, err := f.normalize()
	if err != nil {
		return Submitted{}, err
	}
	// Only valid submissions count: a person fixing typos must not be
	// locked out, and invalid ones create nothing.
	if err := in.allow(ctx, ratelimit.Key("recovery", "ip", at.IP), ratelimit.RecoveryPerIP); err != nil {
		return Submitted{}, err
	}
	if err := in.allow(ctx, ratelimit.Key("recovery", "address", account.NormalizeEmail(n.ContactEmail)), ratelimit.RecoveryPerAddress); err != nil {
		return Submitted{}, err
	}
	token, hash, err := newStatusToken()
	if err != nil {
		return Submitted{}, err
	}
	for try := 1; ; try++ {
		ref, err := NewReference()
		if err != nil {
			return Submitted{}, err
		}
		statusURL := in.StatusURL(ref, token)
		err = in.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
			return in.open(ctx, tx, n, ref, hash, statusURL, at)
		})
		if err == nil {
			return Submitted{Reference: ref, StatusURL: statusURL}, nil
		}
		if !isReferenceCollision(err) || try == maxReferenceTries {
			return Submitted{}, fmt.Errorf("desk: submit recovery request for %q: %w", n.Username, err)
		}
	}
}

// open writes the new case and everything that comes with it in tx.
func (in *Intake) open(ctx context.Context, tx *store.Tx, f normalized, ref string, tokenHash []byte, statusURL string, at Origin) error {
	now := in.now()
	emailNorm := account.NormalizeEmail(f.ContactEmail)
	create := tx.Ent.SupportCase.Create().
		SetReference(ref).
		SetKind(supportcase.KindRecovery).
		SetStatus(supportcase.StatusNew).
		SetSubject("Account recovery for " + f.Username).
		SetRequesterName(f.Name).
		SetRequesterEmail(f.ContactEmail).
		SetRequesterEmailNormalized(emailNorm).
		SetClaimedUsername(f.Username).
		SetIntake(types.CaseIntake{
			HasPassword:          f.HasPassword,
			HasEmailAccess:       f.HasEmailAccess,
			HasRecoveryCodes:     f.HasRecoveryCodes,
			HasDevice:            f.HasDevice,
			Explanation:          f.Explanation,
			ClaimedProjects:      f.Projects,
			ClaimedOrganizations: f.Organizations,
			AccountCreated:       f.AccountCreated,
			PreviousEmails:       f.PreviousEmailList,
			TwoFactorMethod:      f.TwoFactorMethod,
			LastUpload:           f.LastUpload,
		}).
		SetStatusTokenHash(tokenHash).
		SetLastActivityAt(now).
		SetCreatedAt(now).
		SetUpdatedAt(now)
	stampDeadlines(create, in.sla, supportcase.KindRecovery, now)
	u, err := tx.Ent.User.Query().Where(user.UsernameNormalized(account.NormalizeUsername(f.Username))).Only(ctx)
	switch {
	case err == nil:
		create.SetAccountID(u.ID)
	case !ent.IsNotFound(err):
		return fmt.Errorf("find account %q: %w", f.Username, err)
	}
	c, err := create.Save(ctx)
	if err != nil {
		return fmt.Errorf("create case: %w", err)
	}
	if err := tx.Ent.CaseParticipant.Create().
		SetCaseID(c.ID).
		SetEmailNormalized(emailNorm).
		SetRole(caseparticipant.RoleRequester).
		SetCreatedAt(now).
		Exec(ctx); err != nil {
		return fmt.Errorf("add requester: %w", err)
	}
	if _, err := in.addWebMessage(ctx, tx, c.ID, f.Name, f.ContactEmail, c.Subject, f.Explanation, now); err != nil {
		return err
	}
	if err := caseEvent(ctx, tx, c.ID, nil, "case_opened", map[string]any{"channel": "web", "ip": at.IP, "user_agent": at.UserAgent}, now); err != nil {
		return err
	}
	// In this transaction, so that no case exists without its evidence jobs.
	EnqueueEvidence(tx, c.ID, true)
	return in.queueAcknowledgement(ctx, tx, c.ID, f, ref, statusURL)
}

// addWebMessage stores text from the status page or the form as a public
// inbound message of the case. It has no Message-ID of its own, so it gets
// a fresh one in our domain that no mail will ever carry.
func (in *Intake) addWebMessage(ctx context.Context, tx *store.Tx, caseID int, name, address, subject, text string, now time.Time) (int, error) {
	m, err := tx.Ent.Message.Create().
		SetCaseID(caseID).
		SetMessageIDHeader(mailbox.NewMessageID("web.recoverydesk.invalid")).
		SetDirection(message.DirectionInbound).
		SetVisibility(message.VisibilityPublic).
		SetChannel(message.ChannelWeb).
		SetFromAddress(address).
		SetFromName(name).
		SetSubject(subject).
		SetBodyText(text).
		SetReceivedAt(now).
		SetCreatedAt(now).
		Save(ctx)
	if err != nil {
		return 0, fmt.Errorf("store web message: %w", err)
	}
	return m.ID, nil
}

// allow counts one attempt against rule for key.
func (in *Intake) allow(ctx context.Context, key string, rule ratelimit.Rule) error {
	d, err := in.limits.Allow(ctx, key, rule)
	if err != nil {
		return fmt.Errorf("desk: %w", err)
	}
	if !d.Allowed {
		return &RateLimitedError{RetryAfter: d.RetryAfter}
	}
	return nil
}

// StatusURL is the absolute status link of case ref with its token.
func (in *Intake) StatusURL(ref, token string) string {
	u := in.baseURL.JoinPath(PathCaseStatus, ref)
	u.RawQuery = url.Values{"token": {token}}.Encode()
	return u.String()
}

// newStatusToken returns a 256-bit status token (unpadded base64url) and
// its SHA-256, which is all the database keeps.
func newStatusToken() (string, []byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("desk: status token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(token))
	return token, sum[:], nil
}

// isReferenceCollision reports a unique violation on the case reference.
func isReferenceCollision(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.TableName == "cases" &&
		(pe.ConstraintName == "" || strings.Contains(pe.ConstraintName, "reference"))
}
