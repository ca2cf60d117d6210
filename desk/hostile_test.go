package desk_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/attachment"
	"github.com/recoverydesk/recoverydesk/ent/caseevent"
	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/ent/outboundmail"
	"github.com/recoverydesk/recoverydesk/ent/quarantinedmessage"
	"github.com/recoverydesk/recoverydesk/internal/bench"
	"github.com/recoverydesk/recoverydesk/internal/hostilemail"
	"github.com/recoverydesk/recoverydesk/mailbox"
)

// hostileBudget bounds one HandleMessage of a hostile sample: a parser
// that spins on a crafted message holds a worker as surely as a panic.
const hostileBudget = 60 * time.Second

// hostileHeapBudget bounds the Go heap while one sample is ingested (the
// test runs alone: it is not parallel): the largest sample is under
// 3 MiB, so this leaves a parser a hundredfold and more.
const hostileHeapBudget = 512 << 20

// TestHostileMailIngested feeds the hostile corpus through Inbound as the
// IMAP worker does and checks that no sample takes the worker down, each
// is kept exactly once (case message or quarantine) byte for byte, the
// HTML kept for display is inert, and look-alike senders are filed under
// their real address.
func TestHostileMailIngested(t *testing.T) {
	fx := newInbound(t)
	ctx := context.Background()
	for _, s := range hostilemail.Corpus() {
		t.Run(s.Name, func(t *testing.T) {
			f := mailbox.Fetched{Mailbox: fx.box, UIDValidity: 7, UID: fx.uid.Add(1), Raw: s.Raw}
			start := time.Now()
			mem := bench.WatchMemory(ctx, time.Millisecond)
			err := handleBounded(ctx, fx.in, f)
			peak := mem.Stop().PeakHeap
			if err != nil {
				t.Fatalf("HandleMessage (%d bytes): %v", len(s.Raw), err)
			}
			t.Logf("%d bytes ingested in %s, peak heap %s", len(s.Raw), time.Since(start).Round(time.Millisecond), bench.MiB(peak))
			if peak > hostileHeapBudget {
				t.Errorf("peak heap %s while ingesting %d bytes; a worker has %s", bench.MiB(peak), len(s.Raw), bench.MiB(hostileHeapBudget))
			}

			msgs := fx.client.Message.Query().Where(message.Mailbox(fx.box), message.ImapUID(f.UID)).AllX(ctx)
			quar := fx.client.QuarantinedMessage.Query().
				Where(quarantinedmessage.Mailbox(fx.box), quarantinedmessage.ImapUidvalidity(f.UIDValidity), quarantinedmessage.ImapUID(f.UID)).
				AllX(ctx)
			if len(msgs)+len(quar) != 1 {
				t.Fatalf("stored as %d case messages and %d quarantine entries, want exactly one in all", len(msgs), len(quar))
			}
			if len(quar) == 1 {
				if !bytes.Equal(quar[0].Raw, s.Raw) {
					t.Errorf("quarantined raw differs from what was fetched (%d bytes kept, %d fetched)", len(quar[0].Raw), len(s.Raw))
				}
				if !s.Heavy {
					t.Errorf("quarantined (%s): only the parser-exhausting samples may be refused", quar[0].Error)
				}
				t.Logf("quarantined: %s", quar[0].Error)
				return
			}
			m := msgs[0]
			if !bytes.Equal(m.Raw, s.Raw) {
				t.Errorf("stored raw differs from what was fetched (%d bytes kept, %d fetched)", len(m.Raw), len(s.Raw))
			}
			if m.BodyHTML != nil {
				for _, p := range unsafeHTML(*m.BodyHTML) {
					t.Errorf("stored body_html is not inert: %s", p)
				}
			}
			for field, v := range map[string]string{"subject": m.Subject, "from_name": m.FromName, "from_address": m.FromAddress} {
				if strings.ContainsAny(v, "\r\n") {
					t.Errorf("stored %s %q spans lines", field, v)
				}
			}
			if s.Heavy || s.Attachment != "" {
				n := fx.client.Attachment.Query().Where(attachment.MessageID(m.ID)).CountX(ctx)
				t.Logf("stored with %d attachments, %d bytes of text", n, len(m.BodyText))
				if s.Attachment != "" && n != 1 {
					t.Errorf("%d attachments stored, want %s alone", n, s.Attachment)
				}
			}
			c := fx.client.SupportCase.GetX(ctx, *m.CaseID)
			if s.Oversized {
				n := fx.client.CaseEvent.Query().Where(caseevent.CaseID(c.ID), caseevent.Kind("attachments_dropped")).CountX(ctx)
				if n == 0 {
					t.Errorf("stored without an attachments_dropped event: staff cannot tell parts were skipped")
				}
			}
			if s.LookAlike != "" {
				if m.FromAddress != s.From || c.RequesterEmail != s.From {
					t.Errorf("look-alike %q filed as from %q, requester %q; want the real address %s", s.LookAlike, m.FromAddress, c.RequesterEmail, s.From)
				}
			}
			checkAcknowledgement(t, fx.client, c.ID)
		})
	}
}

// handleBounded runs HandleMessage, turning a panic into an error and
// giving up after hostileBudget.
func handleBounded(ctx context.Context, in interface {
	HandleMessage(context.Context, mailbox.Fetched) error
}, f mailbox.Fetched) error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("panic: %v", r)
			}
		}()
		done <- in.HandleMessage(ctx, f)
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(hostileBudget):
		return fmt.Errorf("still running after %s", hostileBudget)
	}
}

// checkAcknowledgement checks the mail the desk queued back to a hostile
// sender: no header of it may carry a line break the sample smuggled in
// (that would let a sender add Bcc recipients to our mail).
func checkAcknowledgement(t *testing.T, client *ent.Client, caseID int) {
	t.Helper()
	l := client.OutboundMail.Query().Where(outboundmail.CaseID(caseID)).AllX(context.Background())
	for _, o := range l {
		fields := map[string]string{"to": o.ToAddress, "from": o.FromAddress, "subject": o.Subject, "in-reply-to": o.MessageIDHeader}
		if o.InReplyTo != nil {
			fields["in-reply-to"] = *o.InReplyTo
		}
		for k, v := range o.Headers {
			fields["header "+k] = k + v
		}
		for name, v := range fields {
			if strings.ContainsAny(v, "\r\n") {
				t.Errorf("queued %s mail: %s %q spans lines", o.Purpose, name, v)
			}
		}
		if strings.Contains(o.ToAddress, "victim") {
			t.Errorf("queued %s mail goes to %q", o.Purpose, o.ToAddress)
		}
	}
}

// urlAttributes name attributes a browser loads or follows.
var urlAttributes = map[string]bool{
	"href": true, "src": true, "action": true, "formaction": true, "background": true,
	"poster": true, "cite": true, "data": true, "srcset": true, "xlink:href": true, "longdesc": true,
}

// activeElements may run script, load documents, navigate, or restyle the
// page; none belongs in mail shown inside our page.
var activeElements = map[string]bool{
	"script": true, "iframe": true, "frame": true, "frameset": true, "object": true, "embed": true,
	"meta": true, "base": true, "form": true, "style": true, "link": true, "svg": true, "math": true,
	"template": true, "noscript": true, "applet": true, "input": true, "button": true,
}

// unsafeHTML parses stored HTML as a browser would and lists what in it
// could run script, navigate or reach our own origin.
func unsafeHTML(s string) []string {
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		return []string{"does not parse: " + err.Error()}
	}
	var out []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if activeElements[n.Data] {
				out = append(out, fmt.Sprintf("<%s> element", n.Data))
			}
			for _, a := range n.Attr {
				key := strings.ToLower(a.Key)
				if a.Namespace != "" {
					key = a.Namespace + ":" + key
				}
				val := squash(a.Val)
				switch {
				case strings.HasPrefix(key, "on"):
					out = append(out, fmt.Sprintf("<%s %s=%q> event handler", n.Data, key, a.Val))
				case key == "style" || key == "srcdoc":
					out = append(out, fmt.Sprintf("<%s %s=%q>", n.Data, key, a.Val))
				case urlAttributes[key] && unsafeURL(val):
					out = append(out, fmt.Sprintf("<%s %s=%q> unsafe URL", n.Data, key, a.Val))
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// squash lower-cases an attribute value and drops the whitespace and
// control characters browsers ignore inside a URL scheme.
func squash(v string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return -1
		}
		return r
	}, strings.ToLower(v))
}

// unsafeURL reports a script or document scheme, or a URL on the origin
// of the page showing the mail (relative, or scheme-relative): markup
// from a stranger must not make a staff browser request our own pages
// with its cookies, which the CSP's 'self' would allow.
func unsafeURL(v string) bool {
	for _, p := range []string{"javascript:", "vbscript:", "data:", "livescript:"} {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	if i := strings.IndexAny(v, ":/?#"); i < 0 || v[i] != ':' {
		return v != "" // relative
	}
	return false
}
