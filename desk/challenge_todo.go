package desk

import (
	"context"
	"fmt"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/actiontoken"
	"github.com/recoverydesk/recoverydesk/ent/repochallenge"
)

// requesterTodo lists what the requester of case c must do now: the open
// challenges, in words that reveal nothing of the account (not its
// addresses, not what the checks found).
func requesterTodo(ctx context.Context, client *ent.Client, c *ent.SupportCase, now time.Time) ([]string, error) {
	var todo []string
	links, err := client.ActionToken.Query().
		Where(actiontoken.CaseID(c.ID), actiontoken.PurposeEQ(actiontoken.PurposeEmailChallenge),
			actiontoken.UsedAtIsNil(), actiontoken.ExpiresAtGT(now)).
		Order(ent.Asc(actiontoken.FieldExpiresAt)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: open challenges of %s: %w", c.Reference, err)
	}
	onFile, toContact := time.Time{}, time.Time{}
	for _, l := range links {
		if on, _ := l.Data[dataOnAccount].(bool); on {
			if onFile.IsZero() {
				onFile = l.ExpiresAt
			}
		} else if toContact.IsZero() {
			toContact = l.ExpiresAt
		}
	}
	if !onFile.IsZero() {
		todo = append(todo, fmt.Sprintf("Open the link we emailed to the address on file for the account, and tell us whether this request is yours. The link works until %s.", onFile.UTC().Format("2 January 2006, 15:04 UTC")))
	}
	if !toContact.IsZero() {
		todo = append(todo, fmt.Sprintf("Open the link we emailed to you at %s to confirm your address. It works until %s.", c.RequesterEmail, toContact.UTC().Format("2 January 2006, 15:04 UTC")))
	}
	repos, err := client.RepoChallenge.Query().
		Where(repochallenge.CaseID(c.ID), repochallenge.StatusEQ(repochallenge.StatusPending), repochallenge.ExpiresAtGT(now)).
		Order(ent.Asc(repochallenge.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: open challenges of %s: %w", c.Reference, err)
	}
	for _, r := range repos {
		todo = append(todo, fmt.Sprintf("Push a branch named %s to %s. We look for it automatically until %s.", r.Branch, r.RepositoryURL, r.ExpiresAt.UTC().Format("2 January 2006")))
	}
	return todo, nil
}
