package desk

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/cannedreply"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/audit"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// CannedReply is a reusable reply text managed by admins.
type CannedReply struct {
	ID         int
	Name, Body string
}

// Placeholder is one {{name}} a canned reply (or any reply) may hold; it
// is filled in when the reply is sent.
type Placeholder struct {
	Name, Meaning string
}

// Placeholders are the placeholders replies understand, in the order the
// admin page documents them.
var Placeholders = []Placeholder{
	{"reference", "the case reference, e.g. RD-7K3F9Q"},
	{"status_link", "a new secret link to the requester's status page, valid for 90 days"},
	{"requester_name", "the requester's name as they gave it (\"there\" when they gave none)"},
}

// maxCannedName is the schema's limit on a canned reply's name.
const maxCannedName = 100

// placeholderRE finds {{name}}, allowing spaces inside the braces.
var placeholderRE = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

func knownPlaceholder(name string) bool {
	for _, p := range Placeholders {
		if p.Name == name {
			return true
		}
	}
	return false
}

// CannedReplies lists the canned replies by name.
func (t *Triage) CannedReplies(ctx context.Context) ([]CannedReply, error) {
	rows, err := t.st.Ent.CannedReply.Query().Order(ent.Asc(cannedreply.FieldName), ent.Asc(cannedreply.FieldID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: canned replies: %w", err)
	}
	out := make([]CannedReply, len(rows))
	for i, r := range rows {
		out[i] = CannedReply{ID: r.ID, Name: r.Name, Body: r.Body}
	}
	return out, nil
}

// CannedReplyByID returns one canned reply, or ErrNotFound.
func (t *Triage) CannedReplyByID(ctx context.Context, id int) (CannedReply, error) {
	r, err := t.st.Ent.CannedReply.Get(ctx, id)
	if ent.IsNotFound(err) {
		return CannedReply{}, ErrNotFound
	}
	if err != nil {
		return CannedReply{}, fmt.Errorf("desk: canned reply %d: %w", id, err)
	}
	return CannedReply{ID: r.ID, Name: r.Name, Body: r.Body}, nil
}

// checkCanned normalises a canned reply's name and body, or says what is
// wrong with them (fields "name" and "body").
func checkCanned(name, body string) (string, string, error) {
	errs := FieldErrors{}
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		errs["name"] = "Give the reply a name staff will recognise in the list."
	case utf8.RuneCountInString(name) > maxCannedName:
		errs["name"] = fmt.Sprintf("Use at most %d characters.", maxCannedName)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		errs["name"] = "Use a name on one line."
	}
	body = strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	switch {
	case body == "":
		errs["body"] = "Write the text of the reply."
	case len(body) > MaxReplyBytes:
		errs["body"] = fmt.Sprintf("Shorten the text to at most %d bytes (it has %d).", MaxReplyBytes, len(body))
	default:
		var unknown []string
		for _, m := range placeholderRE.FindAllStringSubmatch(body, -1) {
			if !knownPlaceholder(m[1]) {
				unknown = append(unknown, "{{"+m[1]+"}}")
			}
		}
		if len(unknown) > 0 {
			errs["body"] = "Unknown placeholder " + strings.Join(unknown, ", ") + ". Use {{reference}}, {{status_link}} or {{requester_name}}."
		}
	}
	if len(errs) > 0 {
		return "", "", errs
	}
	return name, body, nil
}

// CreateCanned adds a canned reply; only admins may. A name already in
// use gives FieldErrors{"name"}.
func (t *Triage) CreateCanned(ctx context.Context, actor Actor, name, body string) (CannedReply, error) {
	name, body, err := checkCanned(name, body)
	if err != nil {
		return CannedReply{}, err
	}
	var out CannedReply
	err = t.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		u, err := staff(ctx, tx, actor, user.StaffRoleAdmin)
		if err != nil {
			return err
		}
		if err := cannedNameFree(ctx, tx, name, 0); err != nil {
			return err
		}
		now := t.now()
		r, err := tx.Ent.CannedReply.Create().SetName(name).SetBody(body).SetCreatedByID(u.ID).
			SetCreatedAt(now).SetUpdatedAt(now).Save(ctx)
		if err != nil {
			return fmt.Errorf("desk: create canned reply %q: %w", name, err)
		}
		out = CannedReply{ID: r.ID, Name: r.Name, Body: r.Body}
		return auditCanned(ctx, tx, u, "canned_reply_created", r.ID, map[string]any{"name": name}, now)
	})
	return out, err
}

// UpdateCanned changes a canned reply's name and body; only admins may.
func (t *Triage) UpdateCanned(ctx context.Context, actor Actor, id int, name, body string) error {
	name, body, err := checkCanned(name, body)
	if err != nil {
		return err
	}
	return t.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		u, err := staff(ctx, tx, actor, user.StaffRoleAdmin)
		if err != nil {
			return err
		}
		old, err := tx.Ent.CannedReply.Query().Where(cannedreply.ID(id)).ForUpdate().Only(ctx)
		if ent.IsNotFound(err) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("desk: canned reply %d: %w", id, err)
		}
		if err := cannedNameFree(ctx, tx, name, id); err != nil {
			return err
		}
		now := t.now()
		if err := tx.Ent.CannedReply.UpdateOneID(id).SetName(name).SetBody(body).SetUpdatedAt(now).Exec(ctx); err != nil {
			return fmt.Errorf("desk: update canned reply %d: %w", id, err)
		}
		return auditCanned(ctx, tx, u, "canned_reply_updated", id, map[string]any{"name": name, "old_name": old.Name}, now)
	})
}

// DeleteCanned removes a canned reply; only admins may.
func (t *Triage) DeleteCanned(ctx context.Context, actor Actor, id int) error {
	return t.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		u, err := staff(ctx, tx, actor, user.StaffRoleAdmin)
		if err != nil {
			return err
		}
		old, err := tx.Ent.CannedReply.Get(ctx, id)
		if ent.IsNotFound(err) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("desk: canned reply %d: %w", id, err)
		}
		if err := tx.Ent.CannedReply.DeleteOneID(id).Exec(ctx); err != nil {
			return fmt.Errorf("desk: delete canned reply %d: %w", id, err)
		}
		return auditCanned(ctx, tx, u, "canned_reply_deleted", id, map[string]any{"name": old.Name}, t.now())
	})
}

// cannedNameFree refuses a name another canned reply (not id) has.
func cannedNameFree(ctx context.Context, tx *store.Tx, name string, id int) error {
	taken, err := tx.Ent.CannedReply.Query().Where(cannedreply.Name(name), cannedreply.IDNEQ(id)).Exist(ctx)
	if err != nil {
		return fmt.Errorf("desk: canned reply name %q: %w", name, err)
	}
	if taken {
		return FieldErrors{"name": fmt.Sprintf("A canned reply named %q already exists. Choose another name, or edit that one.", name)}
	}
	return nil
}

func auditCanned(ctx context.Context, tx *store.Tx, u *ent.User, action string, id int, details map[string]any, now time.Time) error {
	if _, err := audit.Append(ctx, tx, audit.Entry{
		ActorID: &u.ID, ActorLabel: staffLabel(u),
		Action: action, TargetType: "canned_reply", TargetID: fmt.Sprint(id),
		Details: details, At: now,
	}); err != nil {
		return fmt.Errorf("desk: %w", err)
	}
	return nil
}

// expand fills the placeholders of a reply body written for case c
// (locked in tx): the reference, a freshly minted status link (only when
// the body asks for one) and the requester's name. Unknown placeholders
// are left as written.
func (t *Triage) expand(ctx context.Context, tx *store.Tx, c *ent.SupportCase, body string, now time.Time) (string, error) {
	var link string
	var err error
	out := placeholderRE.ReplaceAllStringFunc(body, func(m string) string {
		switch placeholderRE.FindStringSubmatch(m)[1] {
		case "reference":
			return c.Reference
		case "requester_name":
			if n := strings.TrimSpace(c.RequesterName); n != "" {
				return n
			}
			return "there"
		case "status_link":
			if link == "" && err == nil {
				link, err = t.mintStatusLink(ctx, tx, c, now)
			}
			return link
		}
		return m
	})
	if err != nil {
		return "", err
	}
	return out, nil
}
