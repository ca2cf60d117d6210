package desk

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/recoverydesk/recoverydesk/desk/mailtemplates"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// DefaultResetWaitingPeriod is how long an approved 2FA reset waits for
// the owner to cancel it, unless configured otherwise.
const DefaultResetWaitingPeriod = 72 * time.Hour

// ErrForbidden is returned when the actor's role does not allow an action
// (an agent approving a reset, an admin whose session did not use a
// security key). Roles are read from the database at each action, so a
// revoked role stops working at once, whatever the session remembers.
var ErrForbidden = errors.New("desk: not allowed for this staff member")

// Actor is the staff member doing something, as their session shows them.
type Actor struct {
	UserID int
	// WebAuthn reports whether the session signed in with a security key
	// or passkey; approving a reset needs it.
	WebAuthn bool
}

// TriageOptions tune the desk; zero values mean defaults.
type TriageOptions struct {
	// SLA is the deadline policy per kind of case.
	SLA SLAPolicy
	// WaitingPeriod is how long an approved reset waits; 0 means
	// DefaultResetWaitingPeriod (use NoWait for none).
	WaitingPeriod time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NoWait as TriageOptions.WaitingPeriod configures no waiting period.
const NoWait time.Duration = -1

// Triage is the staff side of the desk: the queue, a case's actions
// (assign, reply, notes, tags, statuses, merge) and the decisions that
// lead to a 2FA reset.
type Triage struct {
	st       *store.Store
	outbox   *mailbox.Outbox
	signer   *mailbox.MessageIDSigner
	tmpl     *mailtemplates.Set
	ev       *Evidence
	siteName string
	baseURL  *url.URL
	sla      SLAPolicy
	waiting  time.Duration
	now      func() time.Time
}

// NewTriage returns the desk's staff service. ev is the evidence service,
// whose assessment the decisions read. It panics only if the embedded mail
// templates do not parse, which the tests rule out.
func NewTriage(st *store.Store, outbox *mailbox.Outbox, signer *mailbox.MessageIDSigner, ev *Evidence, siteName string, baseURL *url.URL, opts TriageOptions) *Triage {
	tmpl, err := mailtemplates.Parse()
	if err != nil {
		panic(err)
	}
	t := &Triage{
		st: st, outbox: outbox, signer: signer, tmpl: tmpl, ev: ev,
		siteName: siteName, baseURL: baseURL,
		sla: opts.SLA.withDefaults(), waiting: opts.WaitingPeriod, now: opts.Now,
	}
	switch {
	case t.waiting == 0:
		t.waiting = DefaultResetWaitingPeriod
	case t.waiting < 0:
		t.waiting = 0
	}
	if t.now == nil {
		t.now = time.Now
	}
	return t
}

// WaitingPeriod is the configured wait before an approved reset runs.
func (t *Triage) WaitingPeriod() time.Duration { return t.waiting }

// staff loads the actor in tx and checks they hold one of roles; anyone
// else gets ErrForbidden.
func staff(ctx context.Context, tx *store.Tx, a Actor, roles ...user.StaffRole) (*ent.User, error) {
	u, err := tx.Ent.User.Get(ctx, a.UserID)
	if ent.IsNotFound(err) {
		return nil, ErrForbidden
	}
	if err != nil {
		return nil, fmt.Errorf("desk: staff member %d: %w", a.UserID, err)
	}
	if u.Status != user.StatusActive {
		return nil, ErrForbidden
	}
	for _, r := range roles {
		if u.StaffRole == r {
			return u, nil
		}
	}
	return nil, ErrForbidden
}

// anyStaff are the roles that work the desk.
var anyStaff = []user.StaffRole{user.StaffRoleAgent, user.StaffRoleAdmin}

// lockCaseRef locks the case with reference ref in tx. A case merged into
// another is returned as it is (callers that act on the survivor check
// MergedIntoID); an unknown or malformed reference is ErrNotFound.
func lockCaseRef(ctx context.Context, tx *store.Tx, ref string) (*ent.SupportCase, error) {
	norm, ok := NormalizeReference(ref)
	if !ok {
		return nil, ErrNotFound
	}
	c, err := tx.Ent.SupportCase.Query().Where(supportcase.Reference(norm)).ForUpdate().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("desk: lock case %s: %w", norm, err)
	}
	return c, nil
}
