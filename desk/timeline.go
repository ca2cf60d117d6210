package desk

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/auditevent"
	"github.com/recoverydesk/recoverydesk/ent/caseevent"
	"github.com/recoverydesk/recoverydesk/ent/evidenceitem"
	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/resetapproval"
	"github.com/recoverydesk/recoverydesk/ent/resetrequest"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
)

// The kinds of timeline entries.
const (
	EntryInbound  = "inbound"  // a message from the requester (mail or status page)
	EntryOutbound = "outbound" // a reply we sent, with its delivery status
	EntryNote     = "note"     // an internal note
	EntryEvidence = "evidence" // an evidence item a check recorded
	EntryEvent    = "event"    // a change: status, assignment, tags, merge, challenges…
	EntryReset    = "reset"    // a reset approval or a scheduled reset
)

// TimelineEntry is one thing that happened on a case, in words.
type TimelineEntry struct {
	At   time.Time
	Kind string
	// Actor is who did it: a staff username, the requester's address, or
	// "" for the system.
	Actor string
	// Title is one line saying what happened; Body the text, if any.
	Title, Body string
	// Subject and Channel are set for messages.
	Subject, Channel string
	// Delivery is an outbound message's mail status (queued, sent,
	// bounced, failed…), "" when unknown.
	Delivery string
	Internal bool
	// order breaks ties: entries of one instant keep a stable order.
	order, id int
}

// AuditLine is one row of a case's audit trail.
type AuditLine struct {
	ID                  int
	Actor, Action, Case string
	At                  time.Time
	Details             string
}

// timeline merges everything that happened on case c into one list,
// ordered by time and then by id.
func timeline(ctx context.Context, client *ent.Client, c *ent.SupportCase) ([]TimelineEntry, error) {
	var out []TimelineEntry
	msgs, err := client.Message.Query().Where(message.CaseID(c.ID)).WithAuthor().All(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: timeline of %s: messages: %w", c.Reference, err)
	}
	var outIDs []string
	for _, m := range msgs {
		if m.Direction == message.DirectionOutbound {
			outIDs = append(outIDs, m.MessageIDHeader)
		}
	}
	delivery := map[string]string{}
	if len(outIDs) > 0 {
		sent, err := client.OutboundMail.Query().Where(outboundmail.MessageIDHeaderIn(outIDs...)).
			Select(outboundmail.FieldMessageIDHeader, outboundmail.FieldStatus).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("desk: timeline of %s: mail: %w", c.Reference, err)
		}
		for _, s := range sent {
			delivery[s.MessageIDHeader] = string(s.Status)
		}
	}
	for _, m := range msgs {
		e := TimelineEntry{At: m.CreatedAt, id: m.ID, Subject: m.Subject, Channel: string(m.Channel), Body: m.BodyText,
			Internal: m.Visibility != message.VisibilityPublic}
		author := ""
		if m.Edges.Author != nil {
			author = m.Edges.Author.Username
		}
		switch m.Direction {
		case message.DirectionInbound:
			e.Kind, e.Actor = EntryInbound, m.FromAddress
			e.Title = "Message from " + m.FromAddress
			if m.Channel == message.ChannelWeb {
				e.Title = "Added on the status page by " + m.FromAddress
			}
		case message.DirectionOutbound:
			e.Kind, e.Actor = EntryOutbound, author
			e.Delivery = delivery[m.MessageIDHeader]
			e.Title = "Reply mailed to " + strings.Join(m.To, ", ")
			if author != "" {
				e.Title = author + " replied by email to " + strings.Join(m.To, ", ")
			}
		default:
			e.Kind, e.Actor, e.Internal = EntryNote, author, true
			e.Title = "Internal note"
			if author != "" {
				e.Title = "Internal note by " + author
			}
		}
		out = append(out, e)
	}
	items, err := client.EvidenceItem.Query().Where(evidenceitem.CaseID(c.ID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: timeline of %s: evidence: %w", c.Reference, err)
	}
	for _, it := range items {
		out = append(out, TimelineEntry{At: it.CreatedAt, Kind: EntryEvidence, order: 1, id: it.ID,
			Title: "Evidence recorded (" + strengthWords(Strength(it.Strength)) + "): " + it.Finding.Summary,
			Body:  "Source: " + it.Source})
	}
	events, err := client.CaseEvent.Query().Where(caseevent.CaseID(c.ID)).WithActor().All(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: timeline of %s: events: %w", c.Reference, err)
	}
	for _, ev := range events {
		if ev.Kind == EventReplied || ev.Kind == EventNoteAdded {
			continue // the message itself is on the timeline
		}
		e := TimelineEntry{At: ev.CreatedAt, Kind: EntryEvent, order: 2, id: ev.ID, Title: eventWords(ev.Kind, ev.Details)}
		if ev.Edges.Actor != nil {
			e.Actor = ev.Edges.Actor.Username
		}
		out = append(out, e)
	}
	approvals, err := client.ResetApproval.Query().Where(resetapproval.CaseID(c.ID)).WithAdmin().All(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: timeline of %s: approvals: %w", c.Reference, err)
	}
	for _, a := range approvals {
		e := TimelineEntry{At: a.CreatedAt, Kind: EntryReset, order: 3, id: a.ID, Title: "Reset approved", Body: a.Reason}
		if a.Edges.Admin != nil {
			e.Actor = a.Edges.Admin.Username
			e.Title = "Reset approved by " + a.Edges.Admin.Username
		}
		if a.VoidedAt != nil {
			e.Title += " (no longer counts since " + a.VoidedAt.UTC().Format("2 Jan 2006, 15:04 UTC") + ")"
		}
		out = append(out, e)
	}
	resets, err := client.ResetRequest.Query().Where(resetrequest.CaseID(c.ID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: timeline of %s: resets: %w", c.Reference, err)
	}
	for _, r := range resets {
		title := "Reset scheduled for " + r.ScheduledFor.UTC().Format("2 Jan 2006, 15:04 UTC") + " (" + string(r.Status) + ")"
		out = append(out, TimelineEntry{At: r.CreatedAt, Kind: EntryReset, order: 4, id: r.ID, Title: title, Body: r.Reason})
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.At.Equal(b.At) {
			return a.At.Before(b.At)
		}
		if a.order != b.order {
			return a.order < b.order
		}
		return a.id < b.id
	})
	return out, nil
}

func strengthWords(s Strength) string {
	switch s {
	case StrengthProof:
		return "proof of control"
	case StrengthPrivate:
		return "private knowledge"
	case StrengthPublic:
		return "public knowledge"
	case StrengthRedFlag:
		return "red flag"
	}
	return string(s)
}

// words turns a stored value ("waiting_on_requester") into words.
func words(s string) string {
	return strings.ReplaceAll(s, "_", " ")
}

func detail(d map[string]any, k string) string {
	v, ok := d[k]
	if !ok || v == nil {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, 0, len(x))
		for _, p := range x {
			parts = append(parts, fmt.Sprint(p))
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}

// eventWords says a case event in a sentence staff read.
func eventWords(kind string, d map[string]any) string {
	switch kind {
	case EventStatusChanged:
		s := "Status changed from " + words(detail(d, "from")) + " to " + words(detail(d, "to"))
		if r := detail(d, "reason"); r != "" {
			s += ": " + r
		}
		return s
	case EventAssigned:
		switch from, to := detail(d, "from"), detail(d, "to"); {
		case to == "":
			return "Unassigned (was " + from + ")"
		case from == "":
			return "Assigned to " + to
		default:
			return "Reassigned from " + from + " to " + to
		}
	case EventTagsChanged:
		var parts []string
		if a := detail(d, "added"); a != "" {
			parts = append(parts, "added "+a)
		}
		if r := detail(d, "removed"); r != "" {
			parts = append(parts, "removed "+r)
		}
		return "Tags " + strings.Join(parts, "; ")
	case EventMergedInto:
		return "Merged into " + detail(d, "into")
	case EventMergedFrom:
		return fmt.Sprintf("%s merged into this case (%s messages, %s evidence items moved)", detail(d, "from"), detail(d, "messages"), detail(d, "evidence"))
	case "case_opened":
		if ch := detail(d, "channel"); ch != "" {
			return "Case opened (" + ch + ")"
		}
		return "Case opened"
	case "email_challenge_sent":
		return "Email challenge sent to " + detail(d, "addresses")
	case "email_challenge_answered":
		return "Email challenge answered" + suffix(detail(d, "address"))
	case "repo_challenge_started":
		return "Repository challenge started" + suffix(detail(d, "branch"))
	case "repo_challenge_passed":
		return "Repository challenge passed: branch " + detail(d, "branch") + " found"
	case "repo_challenge_expired":
		return "Repository challenge expired" + suffix(detail(d, "branch"))
	case "requester_added_information":
		return "The requester added information on the status page"
	case "requester_replied":
		return "The requester replied by email"
	case "account_linked":
		return "Linked to account " + detail(d, "account")
	case "assessment_changed":
		if r := detail(d, "recommendation"); r != "" {
			return "Assessment changed: " + words(r)
		}
		return "Assessment changed"
	}
	s := strings.ToUpper(words(kind)[:1]) + words(kind)[1:]
	if len(d) > 0 {
		s += " (" + detailsText(d) + ")"
	}
	return s
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}

// detailsText writes a details map as "key: value; …" in key order.
func detailsText(d map[string]any) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := detail(d, k)
		if _, ok := d[k].(map[string]any); ok {
			b, _ := json.Marshal(d[k])
			v = string(b)
		}
		parts = append(parts, words(k)+": "+v)
	}
	return strings.Join(parts, "; ")
}

// auditTrail lists the audit rows about case c and the cases merged into
// it, oldest first.
func auditTrail(ctx context.Context, client *ent.Client, c *ent.SupportCase) ([]AuditLine, error) {
	refs := []string{c.Reference}
	frontier := []int{c.ID}
	for hop := 0; hop < maxMergeHops && len(frontier) > 0; hop++ {
		merged, err := client.SupportCase.Query().Where(supportcase.MergedIntoIDIn(frontier...)).
			Select(supportcase.FieldID, supportcase.FieldReference).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("desk: audit trail of %s: %w", c.Reference, err)
		}
		frontier = frontier[:0]
		for _, m := range merged {
			refs = append(refs, m.Reference)
			frontier = append(frontier, m.ID)
		}
	}
	rows, err := client.AuditEvent.Query().
		Where(auditevent.TargetType("case"), auditevent.TargetIDIn(refs...)).
		Order(ent.Asc(auditevent.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: audit trail of %s: %w", c.Reference, err)
	}
	out := make([]AuditLine, len(rows))
	for i, r := range rows {
		out[i] = AuditLine{ID: r.ID, Actor: r.ActorLabel, Action: words(r.Action), Case: r.TargetID, At: r.CreatedAt, Details: detailsText(r.Details)}
	}
	return out, nil
}
