package registry

import (
	"context"
	"fmt"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/project"
	"github.com/recoverydesk/recoverydesk/ent/projectrole"
)

// Who may upload to a project: a token scoped to a project uploads to that
// project only; an account-wide token to every project its user owns or
// maintains, and it creates a project that does not exist yet, with its
// user as the owner. Either way the user must still hold a role: a scope
// does not outlive the role it was made under.

// authorization is the project an upload goes to.
type authorization struct {
	// project is nil when the project does not exist and create was false.
	project *ent.Project
	// created: the project was created just now.
	created bool
}

// authorize checks that req's token may upload to req.Name, creating the
// project when it is new and create is set (inside the upload's
// transaction, under its lock).
func (s *Service) authorize(ctx context.Context, client *ent.Client, req UploadRequest, create bool) (authorization, error) {
	tok := req.Token
	norm := account.NormalizeProjectName(req.Name)
	p, err := client.Project.Query().Where(project.NameNormalized(norm)).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		if tok.ProjectID != nil {
			return authorization{}, scopeRefusal(ctx, client, tok, req.Name)
		}
		if !create {
			return authorization{}, nil
		}
		return createProject(ctx, client, req, norm)
	case err != nil:
		return authorization{}, fmt.Errorf("registry: look up project %s: %w", norm, err)
	}
	if tok.ProjectID != nil && *tok.ProjectID != p.ID {
		return authorization{}, scopeRefusal(ctx, client, tok, p.Name)
	}
	held, err := client.ProjectRole.Query().
		Where(projectrole.ProjectID(p.ID), projectrole.UserID(tok.UserID)).
		Exist(ctx)
	if err != nil {
		return authorization{}, fmt.Errorf("registry: roles of user %d in %s: %w", tok.UserID, norm, err)
	}
	if !held {
		return authorization{}, forbidden(fmt.Sprintf(
			"The user %s isn't allowed to upload to the project %s: only its owners and maintainers can.",
			tok.Edges.User.Username, p.Name))
	}
	return authorization{project: p}, nil
}

// createProject creates the project of a first upload, owned by the
// uploader.
func createProject(ctx context.Context, client *ent.Client, req UploadRequest, norm string) (authorization, error) {
	p, err := client.Project.Create().
		SetName(req.Name).
		SetNameNormalized(norm).
		SetNillableDescription(optional(req.Summary)).
		Save(ctx)
	if err != nil {
		return authorization{}, fmt.Errorf("registry: create project %s: %w", norm, err)
	}
	err = client.ProjectRole.Create().
		SetProjectID(p.ID).
		SetUserID(req.Token.UserID).
		SetRole(projectrole.RoleOwner).
		Exec(ctx)
	if err != nil {
		return authorization{}, fmt.Errorf("registry: make user %d owner of %s: %w", req.Token.UserID, norm, err)
	}
	return authorization{project: p, created: true}, nil
}

// scopeRefusal says which project a project-scoped token is for.
func scopeRefusal(ctx context.Context, client *ent.Client, tok *ent.APIToken, target string) error {
	scope := "another project"
	if p, err := client.Project.Get(ctx, *tok.ProjectID); err == nil {
		scope = "the project " + p.Name
	}
	return forbidden(fmt.Sprintf(
		"This API token is scoped to %s; it cannot upload to %s. Use a token for %s or an account-wide token.",
		scope, target, target))
}
