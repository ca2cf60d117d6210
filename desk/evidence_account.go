package desk

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/apitoken"
	"github.com/recoverydesk/recoverydesk/ent/emailaddress"
	"github.com/recoverydesk/recoverydesk/ent/predicate"
	"github.com/recoverydesk/recoverydesk/ent/project"
	"github.com/recoverydesk/recoverydesk/ent/schema/types"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// TokenWindow: an API token created this long before the request (or
// since) is a red flag. An attacker who gets in mints a token first: it
// keeps upload rights after the owner takes the account back.
const TokenWindow = 7 * 24 * time.Hour

// KindRecentToken: an API token of the account created shortly before
// the request or since, revoked or not (red flag).
const KindRecentToken = "recent_api_token"

// matchAccount finds the accounts the claimed username and the contact
// address point to. The username decides when it names an account; the
// contact address is then checked against that account's addresses, and
// an address that is not on it is a red flag. Without a known username
// the contact address alone may name one account. None, or several, is
// itself the finding. A case not yet linked to an account is linked to
// the one found, and the jobs that need the account are enqueued. The
// account's recent API tokens are flagged here too (recentTokens), on
// every run, since every run of the evidence starts with this job.
func (e *Evidence) matchAccount(ctx context.Context, caseID int) error {
	c, linked, err := caseAccount(ctx, e.st.Ent, caseID)
	if err != nil {
		return err
	}
	claimed := ""
	if c.ClaimedUsername != nil {
		claimed = *c.ClaimedUsername
	}
	byName := linked
	if byName == nil && claimed != "" {
		byName, err = e.userByName(ctx, claimed)
		if err != nil {
			return err
		}
	}
	byAddress, err := e.usersByAddress(ctx, c.RequesterEmail)
	if err != nil {
		return err
	}
	contact := c.RequesterEmail
	var items []newItem
	var account *ent.User
	switch {
	case byName != nil:
		account = byName
		onAccount := false
		var others []string
		for _, u := range byAddress {
			if u.ID == byName.ID {
				onAccount = true
			} else {
				others = append(others, u.Username)
			}
		}
		summary := fmt.Sprintf("The username %q is the account %s.", claimed, byName.Username)
		if onAccount {
			summary = fmt.Sprintf("The username %q and the contact address %s both point to the account %s.", claimed, contact, byName.Username)
		}
		items = append(items, newItem{
			kind: KindAccountMatch, strength: StrengthPublic, source: "account match",
			key:     fmt.Sprintf("account_match:%d", byName.ID),
			finding: matchFinding(summary, true, []*ent.User{byName}),
		})
		if !onAccount {
			flag := fmt.Sprintf("The contact address %s is not an address of the account %s.", contact, byName.Username)
			if len(others) > 0 {
				flag = fmt.Sprintf("The contact address %s belongs to another account (%s), not to %s.", contact, strings.Join(others, ", "), byName.Username)
			}
			items = append(items, newItem{
				kind: KindContactNotOnAccount, strength: StrengthRedFlag, source: "account match",
				key:     fmt.Sprintf("contact_not_on_account:%d:%s", byName.ID, CanonicalEmail(contact)),
				finding: matchFinding(flag, false, nil),
			})
		}
	case len(byAddress) == 1:
		account = byAddress[0]
		summary := fmt.Sprintf("The contact address %s belongs to the account %s.", contact, account.Username)
		if claimed != "" {
			summary = fmt.Sprintf("No account is called %q; the contact address %s belongs to the account %s.", claimed, contact, account.Username)
		}
		items = append(items, newItem{
			kind: KindAccountMatch, strength: StrengthPublic, source: "account match",
			key:     fmt.Sprintf("account_match:%d", account.ID),
			finding: matchFinding(summary, true, byAddress),
		})
	case len(byAddress) == 0:
		summary := fmt.Sprintf("No account has the username %q or the address %s.", claimed, contact)
		if claimed == "" {
			summary = fmt.Sprintf("No account has the address %s, and no username was given.", contact)
		}
		items = append(items, newItem{
			kind: KindAccountMatch, strength: StrengthPublic, source: "account match",
			key:     "account_match:none:" + canonicalUsername(claimed) + ":" + CanonicalEmail(contact),
			finding: matchFinding(summary, false, nil),
		})
	default:
		names := make([]string, len(byAddress))
		ids := make([]string, len(byAddress))
		for i, u := range byAddress {
			names[i] = u.Username
			ids[i] = fmt.Sprint(u.ID)
		}
		items = append(items, newItem{
			kind: KindAccountMatch, strength: StrengthPublic, source: "account match",
			key:     "account_match:several:" + strings.Join(ids, ","),
			finding: matchFinding(fmt.Sprintf("%d accounts have an address like %s: %s.", len(byAddress), contact, strings.Join(names, ", ")), false, byAddress),
		})
	}
	if account != nil {
		tokens, err := e.recentTokens(ctx, account, c.CreatedAt)
		if err != nil {
			return err
		}
		items = append(items, tokens...)
	}
	return e.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := e.record(ctx, tx, caseID, items); err != nil {
			return err
		}
		if account == nil || linked != nil {
			return nil
		}
		// Link only a case nobody linked meanwhile (record holds its lock).
		n, err := tx.Ent.SupportCase.Update().
			Where(supportcase.ID(caseID), supportcase.AccountIDIsNil()).
			SetAccountID(account.ID).
			Save(ctx)
		if err != nil {
			return fmt.Errorf("desk: link case %d to account %d: %w", caseID, account.ID, err)
		}
		if n == 0 {
			return nil
		}
		if err := caseEvent(ctx, tx, caseID, nil, "account_linked", map[string]any{"account": account.Username}, e.now()); err != nil {
			return err
		}
		enqueueAccountJobs(tx, caseID)
		return nil
	})
}

// recentTokens flags the account's API tokens created within TokenWindow
// before the case opened, or after. Revoked ones count too: someone made
// them, and an upload may have happened before the revocation. Only the
// name, dates and scope are shown, never the prefix.
func (e *Evidence) recentTokens(ctx context.Context, u *ent.User, opened time.Time) ([]newItem, error) {
	tokens, err := e.st.Ent.APIToken.Query().
		Where(apitoken.UserID(u.ID), apitoken.CreatedAtGTE(opened.Add(-TokenWindow))).
		WithProject(func(q *ent.ProjectQuery) { q.Select(project.FieldName) }).
		Order(ent.Asc(apitoken.FieldCreatedAt), ent.Asc(apitoken.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: recent API tokens of %s: %w", u.Username, err)
	}
	items := make([]newItem, len(tokens))
	for i, t := range tokens {
		scope := "every project of the account"
		details := map[string]any{"name": t.Name, "created": t.CreatedAt, "scope": "account"}
		if p := t.Edges.Project; p != nil {
			scope = "the project " + p.Name
			details["scope"], details["project"] = "project", p.Name
		}
		summary := fmt.Sprintf("API token %q created on %s, for %s", t.Name, t.CreatedAt.Format("2006-01-02 15:04 MST"), scope)
		if t.ExpiresAt != nil {
			details["expires"] = *t.ExpiresAt
		}
		if t.LastUsedAt != nil {
			summary += fmt.Sprintf(", last used %s", t.LastUsedAt.Format("2006-01-02 15:04 MST"))
			details["last_used"] = *t.LastUsedAt
		}
		if t.RevokedAt != nil {
			summary += fmt.Sprintf(", revoked %s", t.RevokedAt.Format("2006-01-02 15:04 MST"))
			details["revoked"] = *t.RevokedAt
		}
		items[i] = newItem{
			kind: KindRecentToken, strength: StrengthRedFlag, source: "API tokens",
			key:     fmt.Sprintf("%s:%d", KindRecentToken, t.ID),
			finding: types.Finding{Summary: summary + ".", At: timePtr(t.CreatedAt), Details: details},
		}
	}
	return items, nil
}

func matchFinding(summary string, match bool, users []*ent.User) types.Finding {
	f := types.Finding{Summary: summary, Match: boolPtr(match)}
	if len(users) > 0 {
		names := make([]any, len(users))
		for i, u := range users {
			names[i] = map[string]any{"id": u.ID, "username": u.Username}
		}
		f.Details = map[string]any{"accounts": names}
	}
	return f
}

// userByName finds the account a username names, compared after NFKC
// and case folding.
func (e *Evidence) userByName(ctx context.Context, name string) (*ent.User, error) {
	u, err := e.st.Ent.User.Query().Where(user.UsernameNormalized(canonicalUsername(name))).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("desk: find account %q: %w", name, err)
	}
	return u, nil
}

// usersByAddress finds the accounts with a verified address that reaches the same mailbox as address, ordered by id.
func (e *Evidence) usersByAddress(ctx context.Context, address string) ([]*ent.User, error) {
	canon := CanonicalEmail(address)
	at := strings.LastIndexByte(canon, '@')
	if at <= 0 {
		return nil, nil
	}
	q := e.st.Ent.EmailAddress.Query()
	domain := canon[at+1:]
	if plusTagDomains[domain] || dotlessDomains[domain] {
		// Folded providers: read the domain's addresses that start like
		// this one (a local part cannot start with a dot or a plus), and
		// fold each.
		domains := []string{domain}
		for alias, d := range domainAliases {
			if d == domain {
				domains = append(domains, alias)
			}
		}
		_, first := utf8.DecodeRuneInString(canon)
		q = q.Where(emailaddress.AddressNormalizedHasPrefix(canon[:first]), domainIn(domains))
	} else {
		// The column is only lower-cased; the canonical form is NFKC too.
		q = q.Where(emailaddress.AddressNormalizedIn(canon, account.NormalizeEmail(address)))
	}
	// Only verified addresses say whose an address is: anyone can add an
	// unverified one.
	q = q.Where(emailaddress.VerifiedAtNotNil())
	rows, err := q.WithUser().All(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: find accounts of %s: %w", address, err)
	}
	seen := map[int]*ent.User{}
	for _, r := range rows {
		if CanonicalEmail(r.AddressNormalized) == canon && r.Edges.User != nil {
			seen[r.UserID] = r.Edges.User
		}
	}
	users := make([]*ent.User, 0, len(seen))
	for _, u := range seen {
		users = append(users, u)
	}
	sort.Slice(users, func(i, j int) bool { return users[i].ID < users[j].ID })
	return users, nil
}

// domainIn matches addresses at any of domains.
func domainIn(domains []string) predicate.EmailAddress {
	ps := make([]predicate.EmailAddress, len(domains))
	for i, d := range domains {
		ps[i] = emailaddress.AddressNormalizedHasSuffix("@" + d)
	}
	return emailaddress.Or(ps...)
}
