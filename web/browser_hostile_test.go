package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/internal/hostilemail"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// hostileIngestDeadline bounds how long IMAP ingestion may take to file
// the whole corpus, heavy samples included.
const hostileIngestDeadline = 2 * time.Minute

// hostileWatch records, from the browser's side, every trace a payload
// could leave: dialogs, requests to the payload path, and (through a
// script the browser runs before each document's own) messages posted to
// the window and Content-Security-Policy violations.
const hostileWatch = `
window.__hostile = {messages: [], violations: []};
window.addEventListener('message', e => window.__hostile.messages.push(String(e.data)));
document.addEventListener('securitypolicyviolation', e =>
	window.__hostile.violations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));
`

// hostileTraces are the traces the browser reported.
type hostileTraces struct {
	mu       sync.Mutex
	dialogs  []string
	requests []string
}

func (h *hostileTraces) snapshot() (dialogs, requests []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.dialogs...), append([]string(nil), h.requests...)
}

// TestBrowserHostileMailRendersHarmlessly delivers the hostile corpus to the
// support mailbox, lets IMAP ingestion file it, and opens every case as a
// staff member in Chromium: no payload may run (title, dialog, postMessage,
// request to /pwned seen by the browser or the server, CSP violation), the
// markup a sender wrote as text reads as text, and look-alike senders show
// their real address, readable left to right.
func TestBrowserHostileMailRendersHarmlessly(t *testing.T) {
	s := newBrowserStackWith(t, stackOpts{devMail: true})
	ctx := context.Background()
	db := testdb.Store(t).Ent
	corpus := hostilemail.Corpus()
	for _, smp := range corpus {
		if err := s.mailbox.Deliver(ctx, smp.Raw); err != nil {
			t.Fatalf("deliver %s: %v", smp.Name, err)
		}
	}
	refs := waitHostileFiled(t, db, corpus)

	checkNoInjectedRecipients(t, s, corpus)

	agent := s.profile(t, "agent")
	traces := watchHostile(t, agent)
	signInAsStaff(t, s, agent)

	control := proveWatchers(t, s, agent, traces)

	for _, smp := range corpus {
		ref, ok := refs[smp.Name]
		if !ok {
			continue // quarantined: there is no case page
		}
		casePath := "/desk/cases/" + ref
		agent.open(s.url(casePath))
		checkHostilePage(t, agent, smp, s.url(casePath))
	}
	// The queue lists every hostile subject and sender at once; it is
	// also the last page, so late traces of the previous one (an image
	// error, a refresh) have happened before the counts are read.
	agent.open(s.url("/desk?q=" + url.QueryEscape("hostile sample")))
	queue := readHostilePage(t, agent, "the queue")
	checkNoPayload(t, "the queue", queue)
	if queue.Lines == 0 || !strings.Contains(queue.Text, `<img src=x onerror="`) {
		t.Errorf("the queue searched for the hostile samples lists %d cases and not the markup subject as text; it reads:\n%s", queue.Lines, queue.Text)
	}

	dialogs, requests := traces.snapshot()
	if len(dialogs) > control.dialogs {
		t.Errorf("payloads opened %d dialogs: %q", len(dialogs)-control.dialogs, dialogs[control.dialogs:])
	}
	if len(requests) > control.requests {
		t.Errorf("the browser requested %d payload URLs: %q", len(requests)-control.requests, requests[control.requests:])
	}
	if hits := pwnedHits(s); hits > control.serverHits {
		t.Errorf("the server was asked for %s %d times", hostilemail.PwnedPath, hits-control.serverHits)
	}
}

// pwnedHits counts the requests for the payload path in the server's log.
func pwnedHits(s *browserStack) int {
	return strings.Count(s.logs.String(), `"path":"`+hostilemail.PwnedPath+`"`)
}

// watcherControl is what the watchers saw of proveWatchers' own traces.
type watcherControl struct{ dialogs, requests, serverHits int }

// proveWatchers leaves each trace once on a page of ours, on purpose, and
// checks every watcher saw it: a watcher that sees nothing would let any
// payload pass unnoticed.
func proveWatchers(t *testing.T, s *browserStack, b *tab, traces *hostileTraces) watcherControl {
	t.Helper()
	b.open(s.url("/desk"))
	// An inline script added to the page is what the CSP must stop and
	// report; a posted message and a fetch of the payload path are what a
	// payload that ran would leave.
	b.do("leave the traces of a payload", chromedp.Evaluate[chromedp.Void](`(async () => {
		window.postMessage('control', '*');
		const s = document.createElement('script');
		s.textContent = 'window.__controlRan = true';
		document.body.appendChild(s);
		await fetch('`+hostilemail.PwnedPath+`?m=control');
	})()`, chromedp.EvalAwaitPromise))
	b.waitJS("the page watchers to see the control traces",
		`window.__hostile.messages.includes('control') && window.__hostile.violations.length > 0 && !window.__controlRan`)
	b.do("open a dialog", chromedp.Evaluate[chromedp.Void](`alert('control')`))
	dialogs, requests := traces.snapshot()
	c := watcherControl{dialogs: len(dialogs), requests: len(requests), serverHits: pwnedHits(s)}
	if c.dialogs != 1 || c.requests != 1 || c.serverHits != 1 {
		t.Fatalf("the watchers saw %d dialogs, %d payload requests in the browser and %d in the server log; want 1 of each", c.dialogs, c.requests, c.serverHits)
	}
	return c
}

// waitHostileFiled waits until ingestion has filed every sample and
// returns the case reference of each sample that opened a case; the
// others must be in quarantine, raw as delivered.
func waitHostileFiled(t *testing.T, db *ent.Client, corpus []hostilemail.Sample) map[string]string {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(hostileIngestDeadline)
	for {
		refs := map[string]string{}
		var missing []string
		quarantined, err := db.QuarantinedMessage.Query().All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, smp := range corpus {
			msgs, err := db.Message.Query().
				Where(message.MessageIDHeader(mailbox.NormalizeMessageID(smp.MessageID))).
				WithCase().All(ctx)
			if err != nil {
				t.Fatal(err)
			}
			inQuarantine := 0
			for _, q := range quarantined {
				if bytes.Equal(q.Raw, smp.Raw) {
					inQuarantine++
				}
			}
			switch {
			case len(msgs)+inQuarantine > 1:
				t.Fatalf("%s filed %d times and quarantined %d times", smp.Name, len(msgs), inQuarantine)
			case len(msgs) == 1:
				if !bytes.Equal(msgs[0].Raw, smp.Raw) {
					t.Errorf("%s: stored raw differs from what was delivered", smp.Name)
				}
				refs[smp.Name] = msgs[0].Edges.Case.Reference
			case inQuarantine == 0:
				missing = append(missing, smp.Name)
			}
		}
		if len(missing) == 0 {
			t.Logf("%d of %d samples opened cases", len(refs), len(corpus))
			return refs
		}
		if time.Now().After(deadline) {
			t.Fatalf("ingestion did not file %v within %s", missing, hostileIngestDeadline)
		}
		time.Sleep(200 * time.Millisecond) // poll interval inside the deadline loop
	}
}

// watchHostile installs the watchers of hostileWatch in the tab before
// anything is loaded, and dismisses any dialog so a payload cannot stall
// the walk.
func watchHostile(t *testing.T, b *tab) *hostileTraces {
	t.Helper()
	h := &hostileTraces{}
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		b.fatal("enable the network domain", err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: hostileWatch}); err != nil {
		b.fatal("install the payload watchers", err)
	}
	dialogs := make(chan struct{}, 64)
	if err := chromedp.Listen(b.ctx, func(ev any) {
		switch e := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			h.mu.Lock()
			h.dialogs = append(h.dialogs, string(e.Type)+": "+e.Message)
			h.mu.Unlock()
			select {
			case dialogs <- struct{}{}:
			default:
			}
		case *network.EventRequestWillBeSent:
			if e.Request != nil && strings.Contains(e.Request.URL, hostilemail.PwnedPath) {
				h.mu.Lock()
				h.requests = append(h.requests, e.Request.URL)
				h.mu.Unlock()
			}
		}
	}); err != nil {
		b.fatal("listen to the tab", err)
	}
	go func() {
		for {
			select {
			case <-b.ctx.Done():
				return
			case <-dialogs:
				dctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
				_, _ = chromedp.Call(dctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
				cancel()
			}
		}
	}()
	return h
}

// hostilePageState is what checkHostilePage reads from the page.
type hostilePageState struct {
	Title       string   `json:"title"`
	Messages    []string `json:"messages"`
	Violations  []string `json:"violations"`
	Foreign     []string `json:"foreign"`
	Timeline    string   `json:"timeline"`
	Heading     string   `json:"heading"`
	Requester   string   `json:"requester"`
	Attachments []string `json:"attachments"`
	Text        string   `json:"text"`
	Lines       int      `json:"lines"`
	Headers     struct {
		CSP     string `json:"csp"`
		NoSniff string `json:"nosniff"`
	} `json:"headers"`
}

// hostileRead collects hostilePageState in the page. Foreign lists what no
// page of ours contains: script that is not our own static file, event
// handler attributes, frames, objects, base and refresh elements.
const hostileRead = `(async () => {
	const foreign = [];
	for (const s of document.querySelectorAll('script')) {
		const u = s.src ? new URL(s.src, location.href) : null;
		if (!u || u.origin !== location.origin || !u.pathname.startsWith('/static/')) foreign.push('script ' + (s.src || s.textContent.slice(0, 80)));
	}
	for (const e of document.querySelectorAll('*')) {
		for (const a of e.attributes) {
			if (a.name.toLowerCase().startsWith('on')) foreign.push(e.tagName + ' ' + a.name + '=' + a.value.slice(0, 80));
			if (/^\s*(javascript|vbscript|data):/i.test(a.value) && /href|src|action|data/i.test(a.name)) foreign.push(e.tagName + ' ' + a.name + '=' + a.value.slice(0, 80));
		}
	}
	for (const e of document.querySelectorAll('iframe,frame,object,embed,base,meta[http-equiv],form:not([action^="/"])'))
		foreign.push(e.outerHTML.slice(0, 120));
	const attachments = [...document.querySelectorAll('a[href]')]
		.filter(a => /attachment/i.test(a.getAttribute('href'))).map(a => a.href);
	const res = await fetch(location.href, {credentials: 'same-origin'});
	const dd = [...document.querySelectorAll('dt')].find(dt => dt.textContent.trim() === 'Requester');
	return {
		title: document.title,
		messages: window.__hostile ? window.__hostile.messages : ['watcher missing'],
		violations: window.__hostile ? window.__hostile.violations : ['watcher missing'],
		foreign,
		timeline: [...document.querySelectorAll('[data-testid="timeline-entry"]')].map(e => e.innerText).join('\n'),
		heading: (document.querySelector('h1') || {}).innerText || '',
		requester: dd && dd.nextElementSibling ? dd.nextElementSibling.innerText : '',
		attachments,
		text: document.body.innerText,
		lines: document.querySelectorAll('[data-testid="desk-case-line"]').length,
		headers: {csp: res.headers.get('content-security-policy') || '', nosniff: res.headers.get('x-content-type-options') || ''},
	};
})()`

// addressReadsLeftToRight is true when the first occurrence of the address
// inside the requester's <dd> is laid out left to right: its first
// character left of its last. A bidi override in the display name, not
// isolated, would lay the address out reversed.
const addressReadsLeftToRight = `((addr) => {
	const dd = [...document.querySelectorAll('dt')].find(dt => dt.textContent.trim() === 'Requester')?.nextElementSibling;
	if (!dd) return 'no requester field';
	const walk = document.createTreeWalker(dd, NodeFilter.SHOW_TEXT);
	for (let n = walk.nextNode(); n; n = walk.nextNode()) {
		const i = n.data.indexOf(addr);
		if (i < 0) continue;
		const at = k => { const r = document.createRange(); r.setStart(n, k); r.setEnd(n, k + 1); return r.getBoundingClientRect(); };
		const first = at(i), last = at(i + addr.length - 1);
		if (Math.abs(first.top - last.top) > first.height) return 'ok'; // wrapped: cannot compare
		return first.left < last.left ? 'ok' : 'reversed: first character at x=' + first.left + ', last at x=' + last.left;
	}
	return 'address not in one text node of the requester field';
})(%q)`

// readHostilePage reads hostilePageState from the page the tab shows.
func readHostilePage(t *testing.T, b *tab, what string) hostilePageState {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](hostileRead, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fatal("read "+what, err)
	}
	var st hostilePageState
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("%s: page state %s: %v", what, raw, err)
	}
	return st
}

// checkNoPayload checks the page shows no trace of a payload and no
// active markup, and is served with our CSP and nosniff.
func checkNoPayload(t *testing.T, where string, st hostilePageState) {
	t.Helper()
	if st.Title == hostilemail.PwnedTitle {
		t.Errorf("%s: a payload set the title", where)
	}
	if len(st.Messages) > 0 {
		t.Errorf("%s: payloads posted %q", where, st.Messages)
	}
	if len(st.Violations) > 0 {
		t.Errorf("%s: injected markup reached the DOM and was stopped only by the CSP: %q", where, st.Violations)
	}
	if len(st.Foreign) > 0 {
		t.Errorf("%s: active markup in the page: %q", where, st.Foreign)
	}
	if !strings.Contains(st.Headers.CSP, "script-src 'self'") || st.Headers.NoSniff != "nosniff" {
		t.Errorf("%s: served with CSP %q, X-Content-Type-Options %q", where, st.Headers.CSP, st.Headers.NoSniff)
	}
}

// checkHostilePage checks the case page of smp as the tab shows it.
func checkHostilePage(t *testing.T, b *tab, smp hostilemail.Sample, address string) {
	t.Helper()
	where := smp.Name + " at " + address
	st := readHostilePage(t, b, where)
	checkNoPayload(t, where, st)
	if smp.Literal != "" && !strings.Contains(st.Timeline, smp.Literal) {
		t.Errorf("%s: the timeline does not show %q as text; it reads:\n%s", where, smp.Literal, st.Timeline)
	}
	if smp.Name == "plain-script" && !strings.Contains(st.Heading, `<img src=x onerror="`) {
		t.Errorf("%s: the heading does not show the subject's markup as text: %q", where, st.Heading)
	}
	if smp.LookAlike != "" {
		if !strings.Contains(st.Requester, "<"+smp.From+">") {
			t.Errorf("%s: requester reads %q, want the real address <%s> in it", where, st.Requester, smp.From)
		}
		if !strings.Contains(st.Timeline, "Message from "+smp.From) {
			t.Errorf("%s: the timeline does not say the message is from %s", where, smp.From)
		}
		if got := b.evalString(false, fmt.Sprintf(addressReadsLeftToRight, smp.From)); got != "ok" {
			t.Errorf("%s: the real address %s in the requester field is not shown as written (%s); requester name %q",
				where, smp.From, got, smp.LookAlike)
		}
	}
	for _, u := range st.Attachments {
		checkAttachmentInert(t, b, u)
	}
}

// checkAttachmentInert fetches an attachment link of the case page and
// checks it is served as a download the browser will not render or sniff.
func checkAttachmentInert(t *testing.T, b *tab, u string) {
	t.Helper()
	got := b.evalString(true, fmt.Sprintf(`fetch(%q, {credentials: 'same-origin'}).then(r =>
		[r.status, r.headers.get('content-disposition'), r.headers.get('x-content-type-options'), r.headers.get('content-security-policy')].join('|'))`, u))
	parts := strings.Split(got, "|")
	if len(parts) != 4 || parts[0] != "200" || !strings.HasPrefix(strings.ToLower(parts[1]), "attachment") ||
		parts[2] != "nosniff" || !strings.Contains(parts[3], "sandbox") {
		t.Errorf("attachment %s served as status|disposition|nosniff|CSP = %q; want 200, attachment, nosniff, a sandbox CSP", u, got)
	}
}

// evalString evaluates a JavaScript expression giving a string in the
// page, awaiting it when it is a promise.
func (b *tab) evalString(await bool, expression string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	var opts []chromedp.EvaluateOption
	if await {
		opts = append(opts, chromedp.EvalAwaitPromise)
	}
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expression, opts...))
	if err != nil {
		b.fatal("evaluate "+expression, err)
	}
	return v
}

// checkNoInjectedRecipients waits for the acknowledgements mailed to the
// senders of the header-injection samples and checks that nothing we
// mailed went to, or named, the addresses they tried to add.
func checkNoInjectedRecipients(t *testing.T, s *browserStack, corpus []hostilemail.Sample) {
	t.Helper()
	waited := 0
	for _, smp := range corpus {
		if strings.HasPrefix(smp.Name, "injection-") {
			s.waitMail(t, smp.From, "")
			waited++
		}
	}
	if waited == 0 {
		t.Fatal("the corpus has no header-injection samples")
	}
	for _, m := range s.sink.List() {
		rcpts := strings.Join(m.EnvelopeTo, ",")
		if strings.Contains(rcpts, "victim.example") {
			t.Errorf("mail %q was sent to %s", m.Subject, rcpts)
		}
		for _, h := range m.Headers {
			// The subject may quote the attempt, on one line, as text.
			injected := !strings.EqualFold(h.Name, "Subject") && strings.Contains(h.Name+h.Value, "victim.example")
			if strings.EqualFold(h.Name, "Bcc") || injected {
				t.Errorf("mail %q to %s has the injected field %s: %s", m.Subject, rcpts, h.Name, h.Value)
			}
		}
	}
}
