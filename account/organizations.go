package account

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/organization"
	"github.com/recoverydesk/recoverydesk/ent/organizationmember"
	"github.com/recoverydesk/recoverydesk/ent/project"
	"github.com/recoverydesk/recoverydesk/ent/user"
)

// Organizations: a user's memberships for the projects page, and an
// organization's public page. Membership, role and "since" are public on
// the index (the desk counts them as public knowledge), addresses never.

// Bounds of the public organization page: an organization with more
// members or projects shows the first ones and says how many there are.
const (
	OrganizationMemberLimit  = 100
	OrganizationProjectLimit = 100
)

// OrganizationRow is one of a user's organizations as the projects page
// lists it.
type OrganizationRow struct {
	Name string
	// Role is "owner" or "member"; Since is when the user joined.
	Role     string
	Since    time.Time
	Projects int
}

// OrganizationPage is an organization as anyone may see it.
type OrganizationPage struct {
	Name    string
	Created time.Time
	// Members are owners first, then by joining date; at most
	// OrganizationMemberLimit of MemberCount.
	Members     []OrganizationMemberInfo
	MemberCount int
	// Projects are by name; at most OrganizationProjectLimit of
	// ProjectCount.
	Projects     []OrganizationProjectInfo
	ProjectCount int
}

// OrganizationMemberInfo is a member by username, with role and since.
type OrganizationMemberInfo struct {
	Username string
	Role     string
	Since    time.Time
}

// OrganizationProjectInfo is a project the organization owns.
type OrganizationProjectInfo struct {
	Name        string
	Description string
}

// NormalizeOrganizationName is how organization names compare: trimmed
// and lower case (the seed and the desk store and look them up so).
func NormalizeOrganizationName(name string) string {
	return strings.ToLower(strings.TrimSpace(name))
}

// ListOrganizations returns the organizations userID is a member of, by
// name, with the number of projects each owns.
func ListOrganizations(ctx context.Context, client *ent.Client, userID int) ([]OrganizationRow, error) {
	ms, err := client.OrganizationMember.Query().
		Where(organizationmember.UserID(userID)).
		WithOrganization().
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("account: organizations of user %d: %w", userID, err)
	}
	if len(ms) == 0 {
		return nil, nil
	}
	ids := make([]int, len(ms))
	for i, m := range ms {
		ids[i] = m.OrganizationID
	}
	var counts []struct {
		OrganizationID int `json:"organization_id"`
		Count          int `json:"count"`
	}
	if err := client.Project.Query().
		Where(project.OrganizationIDIn(ids...)).
		GroupBy(project.FieldOrganizationID).
		Aggregate(ent.Count()).
		Scan(ctx, &counts); err != nil {
		return nil, fmt.Errorf("account: project counts of user %d's organizations: %w", userID, err)
	}
	byOrg := make(map[int]int, len(counts))
	for _, c := range counts {
		byOrg[c.OrganizationID] = c.Count
	}
	rows := make([]OrganizationRow, len(ms))
	for i, m := range ms {
		rows[i] = OrganizationRow{
			Name: m.Edges.Organization.Name, Role: string(m.Role), Since: m.CreatedAt,
			Projects: byOrg[m.OrganizationID],
		}
	}
	slices.SortFunc(rows, func(a, b OrganizationRow) int {
		return cmp.Compare(NormalizeOrganizationName(a.Name), NormalizeOrganizationName(b.Name))
	})
	return rows, nil
}

// PublicOrganization returns the organization called name (compared
// normalized) with its members and projects, or ErrNotFound.
func PublicOrganization(ctx context.Context, client *ent.Client, name string) (*OrganizationPage, error) {
	o, err := client.Organization.Query().
		Where(organization.NameNormalized(NormalizeOrganizationName(name))).
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, fmt.Errorf("account: organization %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("account: organization %q: %w", name, err)
	}
	page := &OrganizationPage{Name: o.Name, Created: o.CreatedAt}

	members := client.OrganizationMember.Query().Where(organizationmember.OrganizationID(o.ID))
	ms, err := members.Clone().
		WithUser(func(q *ent.UserQuery) { q.Select(user.FieldUsername) }).
		// Owners first: "owner" sorts after "member".
		Order(ent.Desc(organizationmember.FieldRole), ent.Asc(organizationmember.FieldCreatedAt), ent.Asc(organizationmember.FieldID)).
		Limit(OrganizationMemberLimit).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("account: members of organization %q: %w", o.Name, err)
	}
	for _, m := range ms {
		page.Members = append(page.Members, OrganizationMemberInfo{Username: m.Edges.User.Username, Role: string(m.Role), Since: m.CreatedAt})
	}
	page.MemberCount = len(ms)
	if len(ms) == OrganizationMemberLimit {
		if page.MemberCount, err = members.Count(ctx); err != nil {
			return nil, fmt.Errorf("account: count members of organization %q: %w", o.Name, err)
		}
	}

	projects := client.Project.Query().Where(project.OrganizationID(o.ID))
	ps, err := projects.Clone().
		Select(project.FieldName, project.FieldDescription).
		Order(ent.Asc(project.FieldNameNormalized)).
		Limit(OrganizationProjectLimit).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("account: projects of organization %q: %w", o.Name, err)
	}
	for _, p := range ps {
		page.Projects = append(page.Projects, OrganizationProjectInfo{Name: p.Name, Description: optionalText(p.Description)})
	}
	page.ProjectCount = len(ps)
	if len(ps) == OrganizationProjectLimit {
		if page.ProjectCount, err = projects.Count(ctx); err != nil {
			return nil, fmt.Errorf("account: count projects of organization %q: %w", o.Name, err)
		}
	}
	return page, nil
}

// ListOrganizations is ListOrganizations on the services' database.
func (s *Services) ListOrganizations(ctx context.Context, userID int) ([]OrganizationRow, error) {
	return ListOrganizations(ctx, s.Security.st.Ent, userID)
}

// PublicOrganization is PublicOrganization on the services' database.
func (s *Services) PublicOrganization(ctx context.Context, name string) (*OrganizationPage, error) {
	return PublicOrganization(ctx, s.Security.st.Ent, name)
}
