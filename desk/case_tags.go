package desk

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/recoverydesk/recoverydesk/internal/store"
)

// EventTagsChanged is the timeline kind of a change of tags; details hold
// "added" and "removed".
const EventTagsChanged = "tags_changed"

// Limits on a case's tags.
const (
	MaxTags   = 10
	MaxTagLen = 32
)

var tagRE = regexp.MustCompile(`^[a-z0-9-]+$`)

// NormalizeTags lower-cases, trims and de-duplicates tags (keeping their
// order), refusing any that is not letters, digits and dashes of at most
// MaxTagLen, or more than MaxTags of them (FieldErrors{"tags"}).
func NormalizeTags(tags []string) ([]string, error) {
	out := []string{}
	for _, tag := range tags {
		tag = strings.ToLower(strings.TrimSpace(tag))
		if tag == "" || slices.Contains(out, tag) {
			continue
		}
		if len(tag) > MaxTagLen || !tagRE.MatchString(tag) {
			return nil, FieldErrors{"tags": fmt.Sprintf("%q is not a tag: use at most %d letters a–z, digits and dashes.", tag, MaxTagLen)}
		}
		out = append(out, tag)
	}
	if len(out) > MaxTags {
		return nil, FieldErrors{"tags": fmt.Sprintf("A case has at most %d tags (these are %d).", MaxTags, len(out))}
	}
	return out, nil
}

// SplitTags splits what a tags field holds (commas or spaces).
func SplitTags(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' || r == '\r' })
}

// SetTags replaces the tags of case ref.
func (t *Triage) SetTags(ctx context.Context, ref string, actor Actor, tags []string) error {
	tags, err := NormalizeTags(tags)
	if err != nil {
		return err
	}
	return t.st.InTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		u, c, err := t.actOn(ctx, tx, ref, actor)
		if err != nil {
			return err
		}
		added, removed := []string{}, []string{}
		for _, tag := range tags {
			if !slices.Contains(c.Tags, tag) {
				added = append(added, tag)
			}
		}
		for _, tag := range c.Tags {
			if !slices.Contains(tags, tag) {
				removed = append(removed, tag)
			}
		}
		if len(added) == 0 && len(removed) == 0 {
			return FieldErrors{"tags": "These are the tags the case already has."}
		}
		now := t.now()
		if err := tx.Ent.SupportCase.UpdateOneID(c.ID).SetTags(tags).SetUpdatedAt(now).Exec(ctx); err != nil {
			return fmt.Errorf("desk: tags of %s: %w", c.Reference, err)
		}
		details := map[string]any{"added": added, "removed": removed}
		if err := caseEvent(ctx, tx, c.ID, &u.ID, EventTagsChanged, details, now); err != nil {
			return err
		}
		details["tags"] = tags
		return auditStaff(ctx, tx, u.ID, "case_tags_changed", c.Reference, details, now)
	})
}
