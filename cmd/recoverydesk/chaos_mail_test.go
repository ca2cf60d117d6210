package main_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// plannedMail is one message of a chaos mailbox, at UID index+1.
type plannedMail struct {
	raw []byte
	// id is the Message-ID as stored (no angle brackets); "" for a
	// message that does not parse.
	id string
	// root is the index of the request a reply answers; -1 otherwise.
	root int
	// dup says this is a byte-exact copy of an earlier message.
	dup bool
}

// mailPlan is a mailbox's worth of mail and what ingesting it must give.
type mailPlan struct {
	mails []plannedMail
	// ids are the distinct Message-IDs: each must be stored exactly once.
	ids []string
	// requests are the indexes of the messages that open a case.
	requests []int
	// malformed are the UIDs that must be quarantined, once each.
	malformed []uint32
}

func (p *mailPlan) raws() [][]byte {
	out := make([][]byte, len(p.mails))
	for i, m := range p.mails {
		out[i] = m.raw
	}
	return out
}

// planMail composes n messages, tagged so two plans never share a
// Message-ID: mostly new requests from distinct senders, one in five a
// reply (In-Reply-To and References) to a request a few messages back,
// one in 500 a byte-exact duplicate of an earlier message and one in 1000
// garbage that does not parse.
func planMail(n int, tag string) *mailPlan {
	p := &mailPlan{}
	for i := range n {
		m := plannedMail{root: -1}
		switch {
		case i%1000 == 999:
			m.raw = fmt.Appendf(nil, "this is not an email at all %s %d\r\njust bytes\r\n", tag, i)
			p.malformed = append(p.malformed, uint32(i+1))
		case i%500 == 499:
			src := i - 250 // a reply...
			if i%1000 == 499 {
				src = i - 3 // ...or a request
			}
			m = p.mails[src]
			m.dup = true
		case i%5 == 4:
			root := i - 4 - 5*(i/5%3) // the request 0, 5 or 10 messages back
			if root < 0 || p.mails[root].root != -1 || p.mails[root].id == "" || p.mails[root].dup {
				root = i - 4
			}
			m.root = root
			m.id = fmt.Sprintf("reply.%d.%s@example.org", i, tag)
			m.raw = fmt.Appendf(nil, "From: Requester %[3]d <req%[3]d.%[2]s@example.org>\r\n"+
				"To: support@desk.test\r\nSubject: Re: Invoice question %[3]d\r\n"+
				"Message-ID: <%[1]s>\r\nIn-Reply-To: <%[4]s>\r\nReferences: <%[4]s>\r\n"+
				"Date: Sat, 21 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
				"Any news about this? (message %[5]d)\r\n", m.id, tag, root, p.mails[root].id, i)
		default:
			m.id = fmt.Sprintf("request.%d.%s@example.org", i, tag)
			m.raw = fmt.Appendf(nil, "From: Requester %[3]d <req%[3]d.%[2]s@example.org>\r\n"+
				"To: support@desk.test\r\nSubject: Invoice question %[3]d\r\n"+
				"Message-ID: <%[1]s>\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n"+
				"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
				"Hello,\r\nmy invoice %[3]d shows the wrong amount. Can you check it?\r\n", m.id, tag, i)
			p.requests = append(p.requests, i)
		}
		if m.id != "" && !m.dup {
			p.ids = append(p.ids, m.id)
		}
		p.mails = append(p.mails, m)
	}
	return p
}

// ingested says whether every message of p has been dealt with: the
// checkpoint is at the last UID and every Message-ID and quarantine row
// is there.
func ingested(ctx context.Context, db *chaosDB, p *mailPlan) (bool, error) {
	last, err := db.count(ctx, `SELECT coalesce(max(last_uid), 0) FROM mailbox_checkpoints`)
	if err != nil || last < len(p.mails) {
		return false, err
	}
	stored, err := db.count(ctx, `SELECT count(DISTINCT message_id_header) FROM messages WHERE direction = 'inbound'`)
	if err != nil {
		return false, err
	}
	quarantined, err := db.count(ctx, `SELECT count(*) FROM quarantined_messages`)
	if err != nil {
		return false, err
	}
	return stored >= len(p.ids) && quarantined >= len(p.malformed), nil
}

// waitIngested waits until p is ingested, with a worker of running up.
func waitIngested(t *testing.T, db *chaosDB, p *mailPlan, timeout time.Duration, running ...*process) {
	t.Helper()
	poll(t, fmt.Sprintf("all %d messages ingested", len(p.mails)), timeout, running, func(ctx context.Context) (bool, error) {
		return ingested(ctx, db, p)
	})
}

// assertIngestedOnce checks the outcome of ingesting p: every distinct
// Message-ID stored exactly once and nothing else, replies in the case of
// the request they answer, one case and one acknowledgement per request,
// each garbage UID quarantined once, the checkpoint at the last UID.
func assertIngestedOnce(t *testing.T, db *chaosDB, p *mailPlan) {
	t.Helper()
	ctx := context.Background()
	rows, err := db.pool.Query(ctx, `SELECT message_id_header, count(*), min(case_id) FROM messages WHERE direction = 'inbound' GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	caseOf := map[string]int64{}
	for rows.Next() {
		var id string
		var n int
		var caseID *int64
		if err := rows.Scan(&id, &n, &caseID); err != nil {
			t.Fatal(err)
		}
		stored[id] = n
		if caseID != nil {
			caseOf[id] = *caseID
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var missing, twice []string
	for _, id := range p.ids {
		switch n := stored[id]; {
		case n == 0:
			missing = append(missing, id)
		case n > 1:
			twice = append(twice, fmt.Sprintf("%s×%d", id, n))
		}
	}
	if len(missing) > 0 || len(twice) > 0 || len(stored) != len(p.ids) {
		t.Errorf("stored %d distinct Message-IDs, want %d; missing %d %v; stored more than once %d %v",
			len(stored), len(p.ids), len(missing), head(missing), len(twice), head(twice))
	}

	var misthreaded []string
	for i, m := range p.mails {
		if m.root < 0 || m.dup {
			continue
		}
		root := p.mails[m.root].id
		if caseOf[m.id] == 0 || caseOf[m.id] != caseOf[root] {
			misthreaded = append(misthreaded, fmt.Sprintf("uid %d in case %d, its request in %d", i+1, caseOf[m.id], caseOf[root]))
		}
	}
	if len(misthreaded) > 0 {
		t.Errorf("%d replies not in their request's case: %v", len(misthreaded), head(misthreaded))
	}

	if n := db.mustCount(t, `SELECT count(*) FROM cases`); n != len(p.requests) {
		t.Errorf("%d cases, want one per request: %d", n, len(p.requests))
	}
	// One acknowledgement per case: a replayed message must not send a
	// second one.
	if n := db.mustCount(t, `SELECT count(*) FROM (SELECT case_id FROM outbound_mails WHERE purpose = 'email_acknowledgement' GROUP BY case_id HAVING count(*) > 1) d`); n != 0 {
		t.Errorf("%d cases got more than one acknowledgement", n)
	}
	if n := db.mustCount(t, `SELECT count(*) FROM outbound_mails WHERE purpose = 'email_acknowledgement'`); n != len(p.requests) {
		t.Errorf("%d acknowledgements queued, want one per request: %d", n, len(p.requests))
	}

	qrows, err := db.pool.Query(ctx, `SELECT imap_uid FROM quarantined_messages ORDER BY imap_uid`)
	if err != nil {
		t.Fatal(err)
	}
	var quarantined []uint32
	for qrows.Next() {
		var uid int64
		if err := qrows.Scan(&uid); err != nil {
			t.Fatal(err)
		}
		quarantined = append(quarantined, uint32(uid))
	}
	if err := qrows.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(quarantined, p.malformed) {
		t.Errorf("quarantined UIDs %v, want each of %v once", quarantined, p.malformed)
	}

	if n := db.mustCount(t, `SELECT count(*) FROM mailbox_checkpoints`); n != 1 {
		t.Errorf("%d checkpoint rows, want 1", n)
	}
	if last := db.mustCount(t, `SELECT last_uid FROM mailbox_checkpoints`); last != len(p.mails) {
		t.Errorf("checkpoint at UID %d, want the last UID %d", last, len(p.mails))
	}
}

// head is the first few of l, for messages.
func head(l []string) []string {
	if len(l) > 5 {
		return l[:5]
	}
	return l
}
