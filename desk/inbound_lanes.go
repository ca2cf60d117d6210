package desk

import (
	"slices"
	"strings"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// lanes splits a batch into at most n groups of message indices that can
// be stored in concurrent transactions: messages that share anything the
// threading rules or the per-sender limits look at (a Message-ID one of
// them names, a sender, a case reference in a tag, a marker or one of our
// signed IDs, the mail a bounce reports on) fall in the same group, in
// batch order, so a reply still finds the case its parent opened earlier
// in the batch. Groups are dealt to the least loaded lane. Messages that
// failed to prepare (errs) go to lane 0, which quarantines them.
func lanes(ms []incoming, errs []error, n int, signer *mailbox.MessageIDSigner) [][]int {
	parent := make([]int, len(ms))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	owner := map[string]int{}
	join := func(i int, key string) {
		if j, ok := owner[key]; ok {
			parent[find(i)] = find(j)
		} else {
			owner[key] = i
		}
	}
	for i, m := range ms {
		if errs[i] != nil {
			continue
		}
		for _, k := range laneKeys(m, signer) {
			join(i, k)
		}
	}
	n = max(1, min(n, len(ms)))
	out := make([][]int, n)
	laneOf := map[int]int{}
	for i := range ms {
		if errs[i] != nil {
			out[0] = append(out[0], i)
			continue
		}
		root := find(i)
		l, ok := laneOf[root]
		if !ok {
			l = leastLoaded(out)
			laneOf[root] = l
		}
		out[l] = append(out[l], i)
	}
	return slices.DeleteFunc(out, func(lane []int) bool { return len(lane) == 0 })
}

func leastLoaded(lanes [][]int) int {
	best := 0
	for i, l := range lanes {
		if len(l) < len(lanes[best]) {
			best = i
		}
	}
	return best
}

// laneKeys are what m shares with other messages of its batch.
func laneKeys(m incoming, signer *mailbox.MessageIDSigner) []string {
	keys := []string{"id:" + m.msgID, "from:" + m.from, "from:" + account.NormalizeEmail(m.requester.Address)}
	if m.isBounce {
		keys = append(keys, "id:"+mailbox.NormalizeMessageID(m.bounce.OriginalMessageID))
	}
	replyIDs, refIDs := threadIDs(threadInput(m))
	for _, id := range append(replyIDs, refIDs...) {
		keys = append(keys, "id:"+id)
		if ref, ok := signer.Verify(id); ok {
			keys = append(keys, "case:"+ref)
		}
	}
	if ref, ok := signer.FindMarker(m.p.Text); ok {
		keys = append(keys, "case:"+ref)
	}
	for _, ref := range SubjectTags(m.p.Subject) {
		keys = append(keys, "case:"+ref)
	}
	// An empty value (no sender, a bounce without the original's ID) ties
	// nothing together: kept, it would put every such message in one lane.
	return slices.DeleteFunc(keys, func(k string) bool { return strings.HasSuffix(k, ":") })
}
