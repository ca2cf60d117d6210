package desk

import (
	"context"
	"fmt"
	"net/mail"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/actiontoken"
	"github.com/recoverydesk/recoverydesk/ent/emailaddress"
	"github.com/recoverydesk/recoverydesk/ent/schema/types"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// PathEmailChallenge is where an email challenge link leads; web's routes
// use the same path.
const PathEmailChallenge = "/challenge/email"

// Purposes of the challenge mails, stored on OutboundMail.
const (
	MailEmailChallenge = "email_challenge"
	MailRepoChallenge  = "repo_challenge"
)

// dataOnAccount marks, in a challenge token's data, a link sent to an
// address of the account (true) or to the contact address (false).
const dataOnAccount = "on_account"

// challengeData fills the email_challenge_*.txt mails.
type challengeData struct {
	SiteName, Reference, Username, Address string
	Opened, Expires                        string
	Link                                   string
}

// sendEmailChallenges mails a challenge link to every verified address of
// the account, and to the contact address when it is not one of them. A
// link goes to each address once per case, however often the job runs.
func (e *Evidence) sendEmailChallenges(ctx context.Context, caseID int) error {
	return e.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		c, err := lockCase(ctx, tx, caseID)
		if err != nil || c.AccountID == nil {
			return err
		}
		u, err := tx.Ent.User.Get(ctx, *c.AccountID)
		if err != nil {
			return fmt.Errorf("desk: email challenge for case %s: %w", c.Reference, err)
		}
		verified, err := tx.Ent.EmailAddress.Query().
			Where(emailaddress.UserID(u.ID), emailaddress.VerifiedAtNotNil()).
			Order(ent.Desc(emailaddress.FieldPrimary), ent.Asc(emailaddress.FieldID)).
			All(ctx)
		if err != nil {
			return fmt.Errorf("desk: email challenge for case %s: %w", c.Reference, err)
		}
		sent, err := tx.Ent.ActionToken.Query().
			Where(actiontoken.CaseID(c.ID), actiontoken.PurposeEQ(actiontoken.PurposeEmailChallenge)).
			All(ctx)
		if err != nil {
			return fmt.Errorf("desk: email challenge for case %s: %w", c.Reference, err)
		}
		done := map[string]bool{}
		for _, t := range sent {
			if t.Email != nil {
				done[CanonicalEmail(*t.Email)] = true
			}
		}
		type target struct {
			address   string
			onAccount bool
		}
		var targets []target
		onAccount := map[string]bool{}
		for _, a := range verified {
			onAccount[CanonicalEmail(a.Address)] = true
			targets = append(targets, target{a.Address, true})
		}
		if !onAccount[CanonicalEmail(c.RequesterEmail)] {
			targets = append(targets, target{c.RequesterEmail, false})
		}
		now := e.now()
		var mailed []string
		for _, t := range targets {
			if done[CanonicalEmail(t.address)] {
				continue
			}
			if err := e.mailEmailChallenge(ctx, tx, c, u, t.address, t.onAccount, now); err != nil {
				return err
			}
			done[CanonicalEmail(t.address)] = true
			mailed = append(mailed, t.address)
		}
		if len(mailed) == 0 {
			return nil
		}
		return caseEvent(ctx, tx, c.ID, nil, "email_challenge_sent", map[string]any{"addresses": mailed}, now)
	})
}

func (e *Evidence) mailEmailChallenge(ctx context.Context, tx *store.Tx, c *ent.SupportCase, u *ent.User, address string, onAccount bool, now time.Time) error {
	token, err := account.IssueToken(ctx, tx.Ent, account.TokenParams{
		Purpose: account.TokenEmailChallenge,
		UserID:  &u.ID,
		Email:   address,
		CaseID:  &c.ID,
		Data:    map[string]any{dataOnAccount: onAccount},
		TTL:     e.emailTTL,
		Now:     now,
	})
	if err != nil {
		return fmt.Errorf("desk: email challenge for case %s: %w", c.Reference, err)
	}
	link := e.baseURL.JoinPath(PathEmailChallenge)
	link.RawQuery = "token=" + token
	name := "email_challenge_contact"
	if onAccount {
		name = "email_challenge_account"
	}
	subject, body, err := e.tmpl.Render(name, challengeData{
		SiteName: e.siteName, Reference: c.Reference, Username: u.Username, Address: address,
		Opened:  c.CreatedAt.Format("2 January 2006"),
		Expires: now.Add(e.emailTTL).UTC().Format("2 January 2006 at 15:04 UTC"),
		Link:    link.String(),
	})
	if err != nil {
		return err
	}
	// No signed Message-ID: a reply from the account's owner must not join
	// the requester's thread, where the requester could read it.
	_, err = e.outbox.Queue(ctx, tx, mailbox.Mail{
		To:      mail.Address{Address: address},
		Subject: subject,
		Text:    body,
		Purpose: MailEmailChallenge,
		CaseID:  &c.ID,
		UserID:  &u.ID,
	})
	if err != nil {
		return fmt.Errorf("desk: email challenge for case %s to %s: %w", c.Reference, address, err)
	}
	return nil
}

// EmailChallenge is what the challenge page shows to whoever opened the
// link: they read the mailbox, so the address is theirs to see.
type EmailChallenge struct {
	Reference, Username, Address string
	// OnAccount tells a link sent to an address of the account from one
	// sent to the contact address.
	OnAccount bool
	Expires   time.Time
}

// PeekEmailChallenge checks a challenge link without spending it (mail
// scanners open links too). It fails with account.ErrTokenInvalid,
// ErrTokenExpired or ErrTokenUsed.
func (e *Evidence) PeekEmailChallenge(ctx context.Context, token string) (*EmailChallenge, error) {
	row, err := account.PeekToken(ctx, e.st.Ent, account.TokenEmailChallenge, token, e.now())
	if err != nil {
		return nil, err
	}
	return e.challengeView(ctx, e.st.Ent, row)
}

func (e *Evidence) challengeView(ctx context.Context, client *ent.Client, row *ent.ActionToken) (*EmailChallenge, error) {
	if row.CaseID == nil || row.UserID == nil || row.Email == nil {
		return nil, account.ErrTokenInvalid
	}
	c, err := client.SupportCase.Get(ctx, *row.CaseID)
	if err != nil {
		return nil, fmt.Errorf("desk: email challenge: case %d: %w", *row.CaseID, err)
	}
	u, err := client.User.Get(ctx, *row.UserID)
	if err != nil {
		return nil, fmt.Errorf("desk: email challenge: account %d: %w", *row.UserID, err)
	}
	on, _ := row.Data[dataOnAccount].(bool)
	return &EmailChallenge{Reference: c.Reference, Username: u.Username, Address: *row.Email, OnAccount: on, Expires: row.ExpiresAt}, nil
}

// AnswerEmailChallenge spends a challenge link with the reader's answer:
// mine says they filed the request. The answer is recorded as evidence
// and the case reassessed in the same transaction; a second use of the
// link fails with account.ErrTokenUsed.
func (e *Evidence) AnswerEmailChallenge(ctx context.Context, token string, mine bool, at Origin) (*EmailChallenge, error) {
	var view *EmailChallenge
	err := e.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		now := e.now()
		row, err := account.ConsumeToken(ctx, tx.Ent, account.TokenEmailChallenge, token, now)
		if err != nil {
			return err
		}
		if view, err = e.challengeView(ctx, tx.Ent, row); err != nil {
			return err
		}
		c, err := lockCase(ctx, tx, *row.CaseID)
		if err != nil {
			return err
		}
		it, err := e.challengeAnswer(ctx, tx, c, row, view, mine, at, now)
		if err != nil {
			return err
		}
		if err := e.record(ctx, tx, c.ID, []newItem{it}); err != nil {
			return err
		}
		return caseEvent(ctx, tx, c.ID, nil, "email_challenge_answered",
			map[string]any{"address": view.Address, "mine": mine, "ip": at.IP}, now)
	})
	if err != nil {
		return nil, err
	}
	return view, nil
}

// challengeAnswer is the evidence an answer gives. A "yes" from a verified
// address of the account is proof of control, unless the address joined
// the account shortly before the request (a takeover adds its own
// address first) or has left it since. A "yes" from the contact address
// shows only that the requester reads it. A "no" is a red flag.
func (e *Evidence) challengeAnswer(ctx context.Context, tx *store.Tx, c *ent.SupportCase, row *ent.ActionToken, v *EmailChallenge, mine bool, at Origin, now time.Time) (newItem, error) {
	canon := CanonicalEmail(v.Address)
	details := map[string]any{"address": v.Address, "ip": at.IP, "user_agent": at.UserAgent, "on_account": v.OnAccount}
	if !mine {
		where, kind := "the contact address", KindContactDisavowed
		if v.OnAccount {
			where, kind = "a verified address of the account", KindEmailDisavowed
		}
		return newItem{
			kind: kind, strength: StrengthRedFlag, source: v.Address, key: kind + ":" + canon,
			finding: types.Finding{
				Summary: fmt.Sprintf("Whoever reads %s (%s) says they did not ask for this recovery.", v.Address, where),
				At:      timePtr(now), Details: details,
			},
		}, nil
	}
	if !v.OnAccount {
		return newItem{
			kind: KindEmailControl, strength: StrengthPublic, source: v.Address, key: "email_control:" + canon,
			finding: types.Finding{
				Summary: fmt.Sprintf("Confirmed the contact address %s, which is not on the account: the requester reads it, nothing more.", v.Address),
				At:      timePtr(now), Details: details,
			},
		}, nil
	}
	it := newItem{
		kind: KindEmailControl, strength: StrengthProof, source: v.Address, key: "email_control:" + canon,
		finding: types.Finding{
			Summary: fmt.Sprintf("Confirmed the request from %s, a verified address of the account.", v.Address),
			At:      timePtr(now), Details: details,
		},
	}
	a, err := tx.Ent.EmailAddress.Query().
		Where(emailaddress.UserID(*row.UserID), emailaddress.AddressNormalized(account.NormalizeEmail(v.Address))).
		Only(ctx)
	switch {
	case ent.IsNotFound(err) || err == nil && a.VerifiedAt == nil:
		it.finding.Discounted = "the address is no longer a verified address of the account"
	case err != nil:
		return it, fmt.Errorf("desk: email challenge answer for %s: %w", c.Reference, err)
	case a.VerifiedAt.After(c.CreatedAt):
		it.finding.Discounted = fmt.Sprintf("the address was verified on the account on %s, after the request", a.VerifiedAt.Format(dateLayout))
	case a.VerifiedAt.After(c.CreatedAt.Add(-ChangeWindow)):
		it.finding.Discounted = fmt.Sprintf("the address was verified on the account on %s, %s before the request",
			a.VerifiedAt.Format(dateLayout), daysWord(c.CreatedAt.Sub(*a.VerifiedAt)))
		details["verified_at"] = a.VerifiedAt.Format(dateLayout)
	default:
		details["verified_at"] = a.VerifiedAt.Format(dateLayout)
	}
	return it, nil
}

// daysWord writes a duration in whole days.
func daysWord(d time.Duration) string {
	n := int(d.Hours() / 24)
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}
