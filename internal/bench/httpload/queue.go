package httpload

import (
	"context"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
)

// Queue is the staff desk's case queue: each client is a signed-in staff
// member (a session made by the caller) and each step opens the default
// view, page 2 of it through its cursor, a filtered view, another sort
// order and a full-text search, rotating through the Filters, Sorts and
// Searches.
type Queue struct {
	// Cookie is the session cookie's name; Sessions the tokens, handed
	// out to clients in turn.
	Cookie   string
	Sessions []string
	// Filters and Sorts are query strings; Searches search terms.
	Filters, Sorts, Searches []string
}

// DefaultQueueViews are the filters, sorts and searches the queue
// scenario uses unless told otherwise: what an agent clicks most.
var DefaultQueueViews = struct{ Filters, Sorts, Searches []string }{
	Filters: []string{
		"assignee=unassigned",
		"status=new&kind=recovery",
		"tag=vip",
		"assignee=mine&sort=activity",
		"recommendation=deny",
		"status=ready_for_decision&sort=risk",
	},
	Sorts:    []string{"sort=activity", "sort=created", "sort=risk"},
	Searches: []string{"yubikey", "lost phone", "recovery codes", "airport", "pixel stolen"},
}

var nextPage = regexp.MustCompile(`href="(/desk[^"]*after=[^"]+)"`)

// Scenario is the load step.
func (s *Queue) Scenario() Scenario {
	return Scenario{Name: "queue", Unit: "rounds of 5 queue pages", Start: s.start, Step: s.step}
}

func (s *Queue) start(_ context.Context, c *Client) error {
	if len(s.Sessions) == 0 {
		return fmt.Errorf("queue: no staff sessions")
	}
	c.NewVisitor()
	c.SetCookie(s.Cookie, s.Sessions[c.ID()%len(s.Sessions)])
	return nil
}

func (s *Queue) step(ctx context.Context, c *Client) error {
	// Clients start at different places in the rotations.
	k := c.ID() + c.Visits()
	c.visits++
	first, err := s.page(ctx, c, "queue default", "/desk")
	if err != nil {
		return err
	}
	if !strings.Contains(first.Body, "/desk/cases/RD-") {
		return fmt.Errorf("queue default: the page lists no case")
	}
	m := nextPage.FindStringSubmatch(first.Body)
	if m == nil {
		return fmt.Errorf("queue default: no link to the next page")
	}
	if _, err := s.page(ctx, c, "queue page 2", html.UnescapeString(m[1])); err != nil {
		return err
	}
	if len(s.Filters) > 0 {
		if _, err := s.page(ctx, c, "queue filter", "/desk?"+s.Filters[k%len(s.Filters)]); err != nil {
			return err
		}
	}
	if len(s.Sorts) > 0 {
		if _, err := s.page(ctx, c, "queue sort", "/desk?"+s.Sorts[k%len(s.Sorts)]); err != nil {
			return err
		}
	}
	if len(s.Searches) > 0 {
		q := url.Values{"q": {s.Searches[k%len(s.Searches)]}}.Encode()
		if _, err := s.page(ctx, c, "queue search", "/desk?"+q); err != nil {
			return err
		}
	}
	return nil
}

func (s *Queue) page(ctx context.Context, c *Client, label, path string) (Response, error) {
	r, err := c.Get(ctx, label, path)
	if err != nil {
		return r, err
	}
	return r, wantStatus(label+" "+path, r, 200)
}
