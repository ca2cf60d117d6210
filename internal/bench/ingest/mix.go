package ingest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Kind is what a generated message is, for the report and the check.
type Kind string

// The mix. Replies thread into cases in each of the ways the desk knows:
// by header (to our acknowledgement or to the requester's earlier mail of
// this run), by our signed marker quoted in the body, and by the [RD-…]
// tag in the subject.
const (
	KindNew         Kind = "new request"
	KindReplyAck    Kind = "reply by header to our mail"
	KindReplyThread Kind = "reply by header to their mail"
	KindReplyMarker Kind = "reply by marker"
	KindReplyTag    Kind = "reply by subject tag"
	KindDuplicate   Kind = "duplicate"
	KindAutoReply   Kind = "auto-reply"
	KindBounce      Kind = "bounce"
	KindMalformed   Kind = "malformed"
)

// weights of each kind, in percent.
var weights = []struct {
	kind Kind
	pct  int
}{
	{KindNew, 55}, {KindReplyAck, 10}, {KindReplyThread, 8}, {KindReplyMarker, 5},
	{KindReplyTag, 5}, {KindDuplicate, 5}, {KindAutoReply, 5}, {KindBounce, 5}, {KindMalformed, 2},
}

// Thread is an existing case the mix replies to: our acknowledgement's
// Message-ID and text (which carries the marker), its reference and its
// requester.
type Thread struct {
	Reference    string
	AckMessageID string
	AckBody      string
	Requester    string
}

// Message is one generated email.
type Message struct {
	Kind Kind
	Raw  []byte
}

// generator builds messages deterministically from a seed.
type generator struct {
	rng     *rand.Rand
	domain  string // the support address's domain
	support string
	run     string // distinguishes this run's Message-IDs
	now     time.Time
	threads []Thread
	sent    []sentMail // this run's new requests, for replies and duplicates
	n       int
}

type sentMail struct {
	msgID, from, subject string
	raw                  []byte
}

// Mix returns n messages: the weights above, replies to threads and to
// earlier messages of the mix. New requests come from distinct senders, so
// the per-sender limit of automatic replies does not shape the run.
func Mix(n int, seed uint64, support string, threads []Thread) []Message {
	g := newGenerator(seed, support, threads)
	out := make([]Message, 0, n)
	for range n {
		out = append(out, g.next())
	}
	return out
}

// NewRequests returns n new requests only (the warm-up that opens the
// cases the mix then replies to).
func NewRequests(n int, seed uint64, support string) []Message {
	g := newGenerator(seed, support, nil)
	out := make([]Message, 0, n)
	for range n {
		out = append(out, g.newRequest())
	}
	return out
}

func newGenerator(seed uint64, support string, threads []Thread) *generator {
	return &generator{
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		domain:  support[strings.LastIndexByte(support, '@')+1:],
		support: support,
		run:     fmt.Sprintf("%x", seed),
		now:     time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC),
		threads: threads,
	}
}

func (g *generator) next() Message {
	k := g.pick()
	// A kind that needs something to answer falls back to a new request.
	if (k == KindReplyThread || k == KindDuplicate) && len(g.sent) < 20 ||
		(k == KindReplyAck || k == KindReplyMarker || k == KindReplyTag || k == KindAutoReply || k == KindBounce) && len(g.threads) == 0 {
		k = KindNew
	}
	switch k {
	case KindReplyAck:
		t := g.thread()
		return g.reply(k, t.Requester, "Re: "+g.subjectLine(), t.AckMessageID, g.body(1, 3)+"\n\nOn Sat, support wrote:\n> "+firstLine(t.AckBody))
	case KindReplyThread:
		// Not one of the last few: their UIDs may not be assigned yet
		// when several connections APPEND at once.
		s := g.sent[g.rng.IntN(len(g.sent)-10)]
		return g.reply(k, s.from, "Re: "+s.subject, s.msgID, g.body(1, 2))
	case KindReplyMarker:
		// No In-Reply-To: only the quoted marker ties it to its case.
		t := g.thread()
		return g.reply(k, t.Requester, "About my account", "", g.body(1, 2)+"\n\n"+quote(t.AckBody))
	case KindReplyTag:
		t := g.thread()
		return g.reply(k, t.Requester, fmt.Sprintf("Re: [%s] more details", t.Reference), "", g.body(1, 3))
	case KindDuplicate:
		s := g.sent[g.rng.IntN(len(g.sent))]
		return Message{Kind: k, Raw: s.raw}
	case KindAutoReply:
		t := g.thread()
		m := g.reply(k, t.Requester, "Automatic reply: out of office", t.AckMessageID, "I am away until Monday and will read your message then.")
		m.Raw = append([]byte("Auto-Submitted: auto-replied\r\n"), m.Raw...)
		return m
	case KindBounce:
		return g.bounce(g.thread())
	case KindMalformed:
		return g.malformed()
	default:
		return g.newRequest()
	}
}

func (g *generator) pick() Kind {
	r := g.rng.IntN(100)
	for _, w := range weights {
		if r < w.pct {
			return w.kind
		}
		r -= w.pct
	}
	return KindNew
}

func (g *generator) thread() Thread { return g.threads[g.rng.IntN(len(g.threads))] }

func (g *generator) msgID() string {
	g.n++
	return fmt.Sprintf("<bench-%s-%d@mail.example.org>", g.run, g.n)
}

var (
	firstNames = []string{"Ada", "Grace", "Linus", "Guido", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Edsger", "Radia", "Anders"}
	lastNames  = []string{"Lovelace", "Hopper", "Torvalds", "van Rossum", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen", "Dijkstra", "Perlman", "Hejlsberg"}
	subjects   = []string{"Lost my 2FA device", "Cannot log in after phone reset", "Account recovery for my project", "Recovery codes lost", "Locked out of my account", "Security key broken", "Question about my release", "TOTP app deleted"}
	words      = strings.Fields("the my project package release account phone authenticator security key recovery codes lost access maintainer upload token repository github email address owner since version wheel sdist please help restore verify proof commit push branch")
)

func (g *generator) subjectLine() string { return subjects[g.rng.IntN(len(subjects))] }

// body is paragraphs of plausible words.
func (g *generator) body(minPara, maxPara int) string {
	var b strings.Builder
	for p := range minPara + g.rng.IntN(maxPara-minPara+1) {
		if p > 0 {
			b.WriteString("\n\n")
		}
		for i := range 30 + g.rng.IntN(60) {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[g.rng.IntN(len(words))])
		}
		b.WriteByte('.')
	}
	return b.String()
}

func (g *generator) header(b *bytes.Buffer, from, subject, msgID string) {
	fmt.Fprintf(b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\n",
		from, g.support, subject, g.now.Add(time.Duration(g.n)*time.Second).Format(time.RFC1123Z), msgID)
}

func (g *generator) newRequest() Message {
	first, last := firstNames[g.rng.IntN(len(firstNames))], lastNames[g.rng.IntN(len(lastNames))]
	addr := fmt.Sprintf("%s.%s.%s%d@example.org", strings.ToLower(first), strings.ToLower(strings.ReplaceAll(last, " ", "")), g.run, g.n)
	from := fmt.Sprintf("%s %s <%s>", first, last, addr)
	subject := g.subjectLine()
	id := g.msgID()
	text := g.body(2, 5)
	var b bytes.Buffer
	g.header(&b, from, subject, id)
	switch r := g.rng.IntN(100); {
	case r < 3:
		g.withAttachment(&b, text)
	case r < 25:
		g.alternative(&b, text)
	default:
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\n")
		b.WriteString(crlf(text))
	}
	raw := b.Bytes()
	g.sent = append(g.sent, sentMail{msgID: id, from: addr, subject: subject, raw: raw})
	return Message{Kind: KindNew, Raw: raw}
}

func (g *generator) alternative(b *bytes.Buffer, text string) {
	boundary := "alt-" + g.run
	fmt.Fprintf(b, "Content-Type: multipart/alternative; boundary=%q\r\n\r\n", boundary)
	fmt.Fprintf(b, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", boundary, crlf(text))
	html := "<html><body><p>" + strings.ReplaceAll(text, "\n\n", "</p><p>") + "</p><p><a href=\"https://github.com/example/project\">my repository</a></p></body></html>"
	fmt.Fprintf(b, "--%s\r\nContent-Type: text/html; charset=utf-8\r\n\r\n%s\r\n--%s--\r\n", boundary, html, boundary)
}

func (g *generator) withAttachment(b *bytes.Buffer, text string) {
	boundary := "mixed-" + g.run
	data := make([]byte, 16<<10+g.rng.IntN(16<<10))
	for i := range data {
		data[i] = byte(g.rng.IntN(256))
	}
	fmt.Fprintf(b, "Content-Type: multipart/mixed; boundary=%q\r\n\r\n", boundary)
	fmt.Fprintf(b, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", boundary, crlf(text))
	fmt.Fprintf(b, "--%s\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"screenshot.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", boundary)
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	fmt.Fprintf(b, "%s\r\n--%s--\r\n", enc, boundary)
}

func (g *generator) reply(k Kind, from, subject, inReplyTo, text string) Message {
	var b bytes.Buffer
	g.header(&b, from, subject, g.msgID())
	if inReplyTo != "" {
		fmt.Fprintf(&b, "In-Reply-To: %s\r\nReferences: %s\r\n", inReplyTo, inReplyTo)
	}
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString(crlf(text))
	return Message{Kind: k, Raw: b.Bytes()}
}

// bounce is a standard delivery status notification about our
// acknowledgement: it marks that mail bounced and is not stored itself.
func (g *generator) bounce(t Thread) Message {
	var b bytes.Buffer
	boundary := "dsn-" + g.run
	g.header(&b, "Mail Delivery System <MAILER-DAEMON@mx.example.org>", "Undelivered Mail Returned to Sender", g.msgID())
	fmt.Fprintf(&b, "Auto-Submitted: auto-replied\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=%q\r\n\r\n", boundary)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n", boundary)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\nFinal-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user\r\n\r\n", boundary, t.Requester)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: %s\r\nTo: %s\r\nFrom: %s\r\n\r\n--%s--\r\n", boundary, t.AckMessageID, t.Requester, g.support, boundary)
	return Message{Kind: KindBounce, Raw: b.Bytes()}
}

// malformed mail: a multipart without a boundary, broken base64, or no
// sender at all. Each is stored as well as it can be or quarantined.
func (g *generator) malformed() Message {
	var b bytes.Buffer
	id := g.msgID()
	switch g.rng.IntN(3) {
	case 0:
		g.header(&b, "someone@example.net", "broken multipart", id)
		b.WriteString("Content-Type: multipart/mixed\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n")
	case 1:
		g.header(&b, "someone@example.net", "broken base64", id)
		b.WriteString("Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!! not base64 ????\r\n")
	default:
		fmt.Fprintf(&b, "Subject: no sender\r\nMessage-ID: %s\r\n\r\nwho sent this?\r\n", id)
	}
	return Message{Kind: KindMalformed, Raw: b.Bytes()}
}

func quote(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = "> " + l
	}
	return strings.Join(lines, "\n")
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") + "\r\n" }
