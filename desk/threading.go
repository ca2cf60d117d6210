package desk

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/recoverydesk/recoverydesk/mailbox"
)

// ThreadInput is what threading needs from an incoming message.
type ThreadInput struct {
	// MessageID is the message's own ID (or its derived one). It is not a
	// threading key — a message cannot reply to itself — so it is dropped
	// from InReplyTo and References.
	MessageID string
	// InReplyTo and References are raw header values or IDs; Thread reads
	// them with mailbox.ParseMessageIDList, so the IDs it looks up are
	// normalised the way stored Message-IDs are (mailbox.NormalizeMessageID).
	// References may hold several values, in header order, oldest first.
	InReplyTo  string
	References []string
	Subject    string
	// Body is the message's text, used to find our signed marker.
	Body string
	// From is the normalised sender address, for the participant check.
	From string
}

// ThreadLookup answers the questions threading asks of the stored cases.
type ThreadLookup interface {
	// CaseByMessageID returns the case of a stored message (incoming or
	// outgoing, of any case) whose Message-ID is one of ids. ids are in
	// order of preference: when several are stored, the case of the
	// earliest in ids wins.
	CaseByMessageID(ctx context.Context, ids []string) (caseID int, found bool, err error)
	// CaseByReference returns the case with public reference ref
	// ("RD-7K3F9Q").
	CaseByReference(ctx context.Context, ref string) (caseID int, found bool, err error)
	// IsParticipant reports whether address already takes part in the case
	// (its requester or someone who wrote in it).
	IsParticipant(ctx context.Context, caseID int, address string) (bool, error)
}

// ThreadDecision is where an incoming message goes and which rule said so.
type ThreadDecision struct {
	// CaseID is the case to join; 0 when New.
	CaseID int
	// New means no rule matched: the message opens a new case.
	New bool
	// Rule is one of the Rule* constants.
	Rule string
}

// The rules Thread applies, in order.
const (
	RuleInReplyTo  = "in-reply-to" // In-Reply-To names a stored message
	RuleReferences = "references"  // References names a stored message
	RuleSignedID   = "signed-id"   // a header names one of our signed IDs
	RuleMarker     = "marker"      // our signed marker is in the body
	RuleSubjectTag = "subject-tag" // the subject's case tag, from a participant
	RuleNew        = "new"         // nothing matched
)

// maxThreadIDs bounds the IDs taken from the headers (the newest ones), so
// a message with thousands of References costs no more than a normal one.
const maxThreadIDs = 100

// Thread decides which case an incoming message joins, following
// DESIGN.md's order:
//
//  1. In-Reply-To, then References (newest first), naming a stored
//     message; failing that, any of those IDs that is one of our signed
//     Message-IDs and verifies names its case by reference — this covers
//     replies to mail we no longer store. A signed-looking ID that does
//     not verify is forged and ignored.
//  2. Our signed marker in the body (it survives clients and servers that
//     rewrite Message-IDs, such as Exchange).
//  3. A case tag in the subject, but only when the sender is already a
//     participant of that case: a tag anyone can type must not let a
//     stranger into someone else's case.
//  4. Otherwise a new case.
//
// signer must not be nil. Only lookup errors are returned.
func Thread(ctx context.Context, in ThreadInput, look ThreadLookup, signer *mailbox.MessageIDSigner) (ThreadDecision, error) {
	if signer == nil {
		return ThreadDecision{}, errors.New("desk: thread: no message-id signer")
	}
	replyIDs, refIDs := threadIDs(in)

	for _, step := range []struct {
		rule string
		ids  []string
	}{{RuleInReplyTo, replyIDs}, {RuleReferences, refIDs}} {
		if len(step.ids) == 0 {
			continue
		}
		id, found, err := look.CaseByMessageID(ctx, step.ids)
		if err != nil {
			return ThreadDecision{}, fmt.Errorf("desk: thread: %s lookup: %w", step.rule, err)
		}
		if found {
			return ThreadDecision{CaseID: id, Rule: step.rule}, nil
		}
	}

	tried := map[string]bool{}
	for _, msgID := range slices.Concat(replyIDs, refIDs) {
		ref, ok := signer.Verify(msgID)
		if !ok {
			continue
		}
		if d, ok, err := caseOfRef(ctx, look, ref, RuleSignedID, tried); err != nil || ok {
			return d, err
		}
	}

	if ref, ok := signer.FindMarker(in.Body); ok {
		if d, ok, err := caseOfRef(ctx, look, ref, RuleMarker, tried); err != nil || ok {
			return d, err
		}
	}

	if in.From != "" {
		for _, ref := range SubjectTags(in.Subject) {
			id, found, err := look.CaseByReference(ctx, ref)
			if err != nil {
				return ThreadDecision{}, fmt.Errorf("desk: thread: subject tag %s: %w", ref, err)
			}
			if !found {
				continue
			}
			member, err := look.IsParticipant(ctx, id, in.From)
			if err != nil {
				return ThreadDecision{}, fmt.Errorf("desk: thread: participant of case %d: %w", id, err)
			}
			if member {
				return ThreadDecision{CaseID: id, Rule: RuleSubjectTag}, nil
			}
		}
	}
	return ThreadDecision{New: true, Rule: RuleNew}, nil
}

// caseOfRef looks up a verified reference once per Thread call (many
// References often name the same case).
func caseOfRef(ctx context.Context, look ThreadLookup, ref, rule string, tried map[string]bool) (ThreadDecision, bool, error) {
	ref, ok := NormalizeReference(ref)
	if !ok || tried[ref] {
		return ThreadDecision{}, false, nil
	}
	tried[ref] = true
	id, found, err := look.CaseByReference(ctx, ref)
	if err != nil {
		return ThreadDecision{}, false, fmt.Errorf("desk: thread: %s %s: %w", rule, ref, err)
	}
	if !found {
		return ThreadDecision{}, false, nil
	}
	return ThreadDecision{CaseID: id, Rule: rule}, true, nil
}

// threadIDs returns the normalised IDs of In-Reply-To and of References
// (newest first), without the message's own ID and without repeats, at
// most maxThreadIDs in all.
func threadIDs(in ThreadInput) (replyIDs, refIDs []string) {
	seen := map[string]bool{mailbox.NormalizeMessageID(in.MessageID): true, "": true}
	keep := func(out []string, ids []string) []string {
		for _, id := range ids {
			if len(replyIDs)+len(out) >= maxThreadIDs {
				break
			}
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
		return out
	}
	replyIDs = keep(nil, mailbox.ParseMessageIDList(in.InReplyTo))
	var refs []string
	for _, r := range in.References {
		refs = append(refs, mailbox.ParseMessageIDList(r)...)
	}
	slices.Reverse(refs)
	refIDs = keep(nil, refs)
	return replyIDs, refIDs
}

// subjectTag matches "RD-7K3F9Q", "[rd-7k3f9q]" or "RD 7K3F9Q" as a whole
// word; NormalizeReference then checks the alphabet.
var subjectTag = regexp.MustCompile(`(?i)\bRD[- ]?([0-9A-Z]{6})\b`)

// SubjectTags returns the case references tagged in subject, in canonical
// form ("RD-7K3F9Q"), in order and without repeats. Tags are matched
// without regard to case, with or without brackets.
func SubjectTags(subject string) []string {
	var out []string
	for _, m := range subjectTag.FindAllStringSubmatch(subject, -1) {
		ref, ok := NormalizeReference("RD-" + m[1])
		if ok && !slices.Contains(out, ref) {
			out = append(out, ref)
		}
	}
	return out
}
