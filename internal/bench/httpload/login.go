package httpload

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
)

// Login is the password step of sign-in: each step is a new visitor who
// opens /login and signs in to the next account of Usernames. The
// password step answers 303 to the second-factor page (accounts with
// 2FA) or to the site (accounts without); either is a success.
type Login struct {
	Usernames []string
	Password  string

	next atomic.Int64
}

// Scenario is the load step.
func (s *Login) Scenario() Scenario {
	return Scenario{Name: "login", Unit: "password logins", Step: s.step}
}

func (s *Login) step(ctx context.Context, c *Client) error {
	if len(s.Usernames) == 0 {
		return fmt.Errorf("login: no accounts to sign in to")
	}
	c.NewVisitor()
	page, err := c.Get(ctx, "GET /login", "/login")
	if err != nil {
		return err
	}
	if err := wantStatus("GET /login", page, 200); err != nil {
		return err
	}
	token, err := csrfToken(page)
	if err != nil {
		return fmt.Errorf("GET /login: %w", err)
	}
	username := s.Usernames[int(s.next.Add(1)-1)%len(s.Usernames)]
	sent, err := c.PostForm(ctx, "POST /login", "/login", url.Values{"_csrf": {token}, "username": {username}, "password": {s.Password}})
	if err != nil {
		return err
	}
	if err := wantStatus("POST /login "+username, sent, 303); err != nil {
		return err
	}
	if loc := sent.Location; loc != "/" && !strings.HasPrefix(loc, "/login/2fa") {
		return fmt.Errorf("POST /login %s led to %q, not to the second factor or the site", username, loc)
	}
	return nil
}
