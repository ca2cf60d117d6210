package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// TestBrowserAgentTriagesAndReplyThreads walks issue 6 as an agent and a
// requester meet it: a recovery request; the agent finds it in the queue,
// takes it and replies; the reply is mailed in the case's thread; the
// requester answers it (written from /dev/mail into the support mailbox)
// and ingestion files the answer in the same case.
func TestBrowserAgentTriagesAndReplyThreads(t *testing.T) {
	s := newBrowserStackWith(t, stackOpts{devMail: true})
	ctx := context.Background()
	db := testdb.Store(t).Ent
	name := uniqueName("lostkey")
	addr := name + "@example.org"

	req := s.profile(t, "requester")
	req.open(s.url("/recover"))
	req.do("fill in the recovery form",
		typeInto(field("recover-form", "username"), name),
		typeInto(field("recover-form", "contact_email"), addr),
		typeInto(field("recover-form", "explanation"), "My security key broke and the recovery codes were on the same laptop."),
	)
	if status := req.load("send the form", chromedp.Click(tid("recover-submit"))); status != 200 {
		req.fatal("send the form", fmt.Errorf("status %d", status))
	}
	ref := req.text(tid("case-reference"))
	s.waitMail(t, addr, "["+ref+"]") // the acknowledgement

	// The agent finds the case by its reference in the queue.
	agent := s.profile(t, "agent")
	signInAsStaff(t, s, agent)
	agent.open(s.url("/desk"))
	agent.do("search the queue", typeInto(field("queue-filters", "q"), ref))
	agent.load("show the cases", chromedp.Click(`[data-testid="queue-filters"] button[type="submit"]`))
	if got := agent.evalBool(`document.querySelectorAll('[data-testid="desk-case-line"]').length === 1`); !got {
		agent.fatal("find the one case", fmt.Errorf("the queue does not list exactly one case for %s", ref))
	}
	casePath := "/desk/cases/" + ref
	agent.load("open the case", chromedp.Click(fmt.Sprintf(`[data-testid="desk-case-line"] a[href=%q]`, casePath)))
	if got := agent.path(); got != casePath {
		agent.fatal("open the case", fmt.Errorf("at %s", got))
	}

	agent.load("take the case", chromedp.Click(tid("take-submit")))
	if got := agent.text(tid("flashes")); !strings.Contains(got, "You took the case.") {
		agent.fatal("take the case", fmt.Errorf("flash reads %q", got))
	}
	me := agent.text(chromedp.CSS(`[data-testid="signed-in-as"] strong`))
	if got := agent.text(tid("desk-case-assignee")); got != me {
		agent.fatal("be the assignee", fmt.Errorf("assignee %q, signed in as %q", got, me))
	}

	reply := "Thanks for writing. Which project did you last push to, and roughly when?"
	agent.do("write the reply", typeInto(field("reply-form", "body"), reply))
	agent.load("send the reply", chromedp.Click(tid("reply-submit")))
	if got := agent.text(tid("flashes")); !strings.Contains(got, "Reply sent to the requester.") {
		agent.fatal("send the reply", fmt.Errorf("flash reads %q", got))
	}
	if got := agent.text(tid("desk-case-status")); got != "Waiting on requester" {
		agent.fatal("wait on the requester", fmt.Errorf("status reads %q", got))
	}

	// The reply is mailed to the requester in the case's thread.
	c := db.SupportCase.Query().Where(supportcase.Reference(ref)).OnlyX(ctx)
	out := db.Message.Query().Where(message.CaseID(c.ID), message.DirectionEQ(message.DirectionOutbound)).OnlyX(ctx)
	m := s.waitMail(t, addr, out.Subject)
	if !strings.HasPrefix(m.Subject, "["+ref+"]") {
		t.Errorf("reply subject %q is not tagged with [%s]", m.Subject, ref)
	}
	if m.MessageID != strings.Trim(out.MessageIDHeader, "<>") {
		t.Errorf("reply mailed with Message-ID %q, the case's message has %q", m.MessageID, out.MessageIDHeader)
	}
	if signedFor, ok := s.signer.Verify(m.MessageID); !ok || signedFor != ref {
		t.Errorf("reply Message-ID %q is not ours for %s (verifies as %q, %v)", m.MessageID, ref, signedFor, ok)
	}
	if !strings.Contains(m.Text, reply) {
		t.Errorf("reply mail lacks the agent's text:\n%s", m.Text)
	}
	agent.reloadUntil(s.url(casePath), "the reply, delivered, on the timeline", fmt.Sprintf(
		`[...document.querySelectorAll('[data-testid="timeline-entry"][data-kind="outbound"]')].some(e =>
			e.textContent.includes(%q) && e.querySelector('[data-testid="timeline-delivery"]')?.textContent.trim() === "Sent")`, reply))

	// The requester answers the reply as a mail client would.
	answer := "I pushed to lostkey-tools in March, from my home address."
	req.open(s.url("/dev/mail"))
	req.load("open the reply", chromedp.Click(fmt.Sprintf(`[data-testid="devmail-link"][href=%q]`, "/dev/mail/"+url.PathEscape(m.ID))))
	req.load("answer it", chromedp.Click(tid("devmail-reply")))
	if got := req.value(field("devmail-form", "from")); got != addr {
		req.fatal("answer as the requester", fmt.Errorf("from %q, want %s", got, addr))
	}
	req.do("write the answer", typeInto(field("devmail-form", "body"), answer))
	req.load("deliver the answer", chromedp.Click(tid("devmail-send")))
	if got := req.text(tid("flashes")); !strings.Contains(got, "Delivered to the support mailbox") {
		req.fatal("deliver the answer", fmt.Errorf("flash reads %q", got))
	}

	agent.reloadUntil(s.url(casePath), "the answer on the timeline", fmt.Sprintf(
		`[...document.querySelectorAll('[data-testid="timeline-entry"][data-kind="inbound"]')].some(e => e.textContent.includes(%q))`, answer))
	if n := db.SupportCase.Query().Where(supportcase.RequesterEmailNormalized(addr)).CountX(ctx); n != 1 {
		t.Errorf("%d cases from %s, want the one: the answer opened a case of its own", n, addr)
	}
}

// reloadUntil reloads address in the tab until expression is true in the
// page, within liveDeadline: for what lands without the page updating
// itself, like mail delivered by a worker.
func (b *tab) reloadUntil(address, what, expression string) {
	b.t.Helper()
	deadline := time.Now().Add(liveDeadline)
	for {
		b.open(address)
		if b.evalBool(expression) {
			return
		}
		if time.Now().After(deadline) {
			b.fatal("wait for "+what, fmt.Errorf("not there after %s of reloading", liveDeadline))
		}
		time.Sleep(200 * time.Millisecond) // poll interval inside the deadline loop
	}
}
