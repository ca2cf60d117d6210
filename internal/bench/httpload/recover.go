package httpload

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// Recover is the public recovery form: each step is a new visitor who
// opens /recover and submits it with data of their own. The references
// of the cases opened are kept, so the caller can check that each case
// got its jobs.
type Recover struct {
	// Usernames are existing accounts the requests name (most real
	// requests are about an account that exists); empty invents names.
	Usernames []string

	mu   sync.Mutex
	refs []string
}

var caseReference = regexp.MustCompile(`data-testid="case-reference">(RD-[0-9A-Z]+)<`)

// References lists the cases this scenario opened.
func (s *Recover) References() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.refs...)
}

// Scenario is the load step.
func (s *Recover) Scenario() Scenario {
	return Scenario{Name: "recover", Unit: "form submissions", Step: s.step}
}

func (s *Recover) step(ctx context.Context, c *Client) error {
	c.NewVisitor()
	page, err := c.Get(ctx, "GET /recover", "/recover")
	if err != nil {
		return err
	}
	if err := wantStatus("GET /recover", page, 200); err != nil {
		return err
	}
	token, err := csrfToken(page)
	if err != nil {
		return fmt.Errorf("GET /recover: %w", err)
	}
	form := s.form(c)
	form.Set("_csrf", token)
	sent, err := c.PostForm(ctx, "POST /recover", "/recover", form)
	if err != nil {
		return err
	}
	if err := wantStatus("POST /recover", sent, 200); err != nil {
		return err
	}
	m := caseReference.FindStringSubmatch(sent.Body)
	if m == nil {
		return fmt.Errorf("POST /recover: the answer shows no case reference")
	}
	s.mu.Lock()
	s.refs = append(s.refs, m[1])
	s.mu.Unlock()
	return nil
}

var (
	firstNames = strings.Fields("ana anders arjun ben carla chen daniel elena fatima hana ines ivan jana kenji lina maria nadia omar priya rosa sofia tariq wei yusuf")
	lastNames  = strings.Fields("almeida berg costa dubois garcia hansen kim kowalski lee meyer nguyen novak patel rossi sato silva tanaka weber wong zhang")
	stories    = []string{
		"I replaced my phone last week and the authenticator app did not transfer its accounts, so I cannot sign in any more.",
		"My recovery codes were in a notes app on a laptop that was stolen at the airport; I still have my password and my email.",
		"The security key I used for two-factor authentication broke and I never registered a second one.",
		"After a factory reset of my Android phone the TOTP codes are gone. I need to publish a security fix release this week.",
		"I lost access to the email address on the account when I left my university; I still maintain the projects.",
	}
	projectWords = strings.Fields("async fast tiny pure smart deep micro open parser client toolkit utils cache queue router schema logger yaml http")
	methods      = []string{"", "totp", "security_key", "passkey", "recovery_codes"}
)

// form is a realistic, distinct submission for the client's current
// visitor: the contact address is unique in the run (the per-address
// rate limit would otherwise refuse repeats).
func (s *Recover) form(c *Client) url.Values {
	r := rand.New(rand.NewPCG(uint64(c.ID()), uint64(c.Visits())))
	first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
	username := fmt.Sprintf("%s.%s%d", first, last, r.IntN(100000))
	if len(s.Usernames) > 0 {
		username = s.Usernames[r.IntN(len(s.Usernames))]
	}
	f := url.Values{
		"username":      {username},
		"contact_email": {fmt.Sprintf("%s.%s.%s-%d-%d@bench.example.org", first, last, c.RunID(), c.ID(), c.Visits())},
		"name":          {strings.ToUpper(first[:1]) + first[1:] + " " + strings.ToUpper(last[:1]) + last[1:]},
		"explanation": {stories[r.IntN(len(stories))] + " " + stories[r.IntN(len(stories))] +
			fmt.Sprintf(" My username is %s.", username)},
		"claimed_projects":  {projectWords[r.IntN(len(projectWords))] + "-" + projectWords[r.IntN(len(projectWords))]},
		"account_created":   {fmt.Sprintf("%d-%02d", 2015+r.IntN(10), 1+r.IntN(12))},
		"two_factor_method": {methods[r.IntN(len(methods))]},
	}
	if r.IntN(2) == 0 {
		f.Set("has_password", "on")
	}
	if r.IntN(3) > 0 {
		f.Set("has_email_access", "on")
	}
	if r.IntN(4) == 0 {
		f.Set("last_upload", fmt.Sprintf("%d-%02d", 2020+r.IntN(6), 1+r.IntN(12)))
	}
	return f
}
