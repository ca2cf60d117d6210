package mailbox

import (
	"mime"
	"net/mail"
	"strings"
)

// AutoReplyHeader and AutoReplyValue mark every automatic mail we send
// (RFC 3834), so that well-behaved systems do not answer it in turn.
const (
	AutoReplyHeader = "Auto-Submitted"
	AutoReplyValue  = "auto-replied"
)

// MaxAutoRepliesPerHour is how many automatic replies one requester may get
// in an hour; beyond it a loop with a misbehaving robot stops by itself.
const MaxAutoRepliesPerHour = 5

// AutoReplyAllowed reports whether one more automatic reply may go to a
// requester who has had sentInLastHour of them in the last hour.
func AutoReplyAllowed(sentInLastHour int) bool {
	return sentInLastHour < MaxAutoRepliesPerHour
}

// HeaderGetter is the read side of a message header. net/textproto's
// MIMEHeader, *go-message textproto.Header and net/mail.Header satisfy it.
// When the value also has Values(name) []string (the first two do), every
// occurrence of a repeated field is examined and an empty field is told
// apart from a missing one.
type HeaderGetter interface {
	Get(name string) string
}

// headerValues is the optional richer interface of a HeaderGetter.
type headerValues interface {
	Values(name string) []string
}

// ClassifyOptions tunes Classify.
type ClassifyOptions struct {
	// Ours lists our own addresses (the support address); an X-Loop field
	// naming one of them means the message is our own mail come back.
	Ours []string
}

// Class says what kind of sender or message an inbound mail is. Any true
// flag means no automatic reply may be sent to it (see NoAutoReply).
type Class struct {
	// AutoSubmitted: written by a program (Auto-Submitted other than "no",
	// X-Autoreply, X-Autorespond, Precedence: auto_reply, an Exchange
	// X-Auto-Response-Suppress, a non-delivery report).
	AutoSubmitted bool
	// Bulk: Precedence bulk or junk.
	Bulk bool
	// List: mailing-list traffic (List-Id, List-Unsubscribe, List-Post,
	// Precedence: list).
	List bool
	// Loop: X-Loop names one of our own addresses.
	Loop bool
	// NullSender: the envelope sender is empty (Return-Path: <>), the mark
	// of delivery reports.
	NullSender bool
	// MailerDaemon: the sender is a mail system or a no-reply address
	// (MAILER-DAEMON, postmaster, noreply, do-not-reply, ...).
	MailerDaemon bool
	// Bounce: a delivery status notification (multipart/report with
	// report-type delivery-status, or Exim's X-Failed-Recipients).
	Bounce bool
	// Reason lists the fields that set the flags, "; "-separated, for logs
	// and the case page.
	Reason string
}

// NoAutoReply reports whether the message must not get an automatic reply.
func (c Class) NoAutoReply() bool {
	return c.AutoSubmitted || c.Bulk || c.List || c.Loop || c.NullSender || c.MailerDaemon || c.Bounce
}

// Classify applies the mail hygiene rules to a message's header.
// envelopeFrom is the SMTP envelope sender when the caller knows it ("<>"
// for the null sender) and "" when it does not; the Return-Path field that
// the delivering server adds is consulted either way.
func Classify(h HeaderGetter, envelopeFrom string, opts ClassifyOptions) Class {
	var c Class
	var reasons []string
	why := func(flag *bool, reason string) {
		*flag = true
		reasons = append(reasons, reason)
	}

	for _, v := range values(h, "Auto-Submitted") {
		if token := firstToken(v); token != "" && token != "no" {
			why(&c.AutoSubmitted, "Auto-Submitted: "+token)
		}
	}
	for _, v := range values(h, "Precedence") {
		switch token := firstToken(v); token {
		case "bulk", "junk":
			why(&c.Bulk, "Precedence: "+token)
		case "list":
			why(&c.List, "Precedence: list")
		case "auto_reply":
			why(&c.AutoSubmitted, "Precedence: auto_reply")
		}
	}
	for _, name := range []string{"X-Autoreply", "X-Autorespond"} {
		if v := strings.TrimSpace(h.Get(name)); v != "" && !strings.EqualFold(v, "no") {
			why(&c.AutoSubmitted, name)
		}
	}
	if v := suppressed(values(h, "X-Auto-Response-Suppress")); v != "" {
		why(&c.AutoSubmitted, "X-Auto-Response-Suppress: "+v)
	}
	if loopsBack(values(h, "X-Loop"), opts.Ours) {
		why(&c.Loop, "X-Loop names our address")
	}
	for _, name := range []string{"List-Id", "List-Unsubscribe", "List-Post"} {
		if strings.TrimSpace(h.Get(name)) != "" {
			why(&c.List, name)
			break
		}
	}
	if nullSender(h, envelopeFrom) {
		why(&c.NullSender, "empty Return-Path")
	}
	for _, addr := range []string{h.Get("From"), envelopeFrom} {
		if kind := robotSender(addr); kind != "" {
			why(&c.MailerDaemon, "sender is "+kind)
			break
		}
	}
	if mt, params, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil && mt == "multipart/report" {
		// A read receipt or an abuse report is a report too, but not a
		// bounce of something we sent.
		switch rt := strings.ToLower(params["report-type"]); rt {
		case "", "delivery-status":
			why(&c.Bounce, "multipart/report delivery-status")
		default:
			why(&c.AutoSubmitted, "multipart/report "+rt)
		}
	}
	if !c.Bounce && strings.TrimSpace(h.Get("X-Failed-Recipients")) != "" {
		why(&c.Bounce, "X-Failed-Recipients")
	}
	c.Reason = strings.Join(reasons, "; ")
	return c
}

// values returns every occurrence of a field, or the one Get sees.
func values(h HeaderGetter, name string) []string {
	if hv, ok := h.(headerValues); ok {
		return hv.Values(name)
	}
	if v := h.Get(name); v != "" {
		return []string{v}
	}
	return nil
}

// firstToken is the lower-cased value before any ";" parameters
// ("auto-replied; owner-email=..." is "auto-replied").
func firstToken(v string) string {
	v, _, _ = strings.Cut(v, ";")
	return strings.ToLower(strings.TrimSpace(v))
}

// suppressValues are the X-Auto-Response-Suppress values by which Exchange
// asks for no automatic answer; it sets them on its own automatic mail.
var suppressValues = map[string]bool{"all": true, "autoreply": true, "oof": true, "dr": true, "rn": true, "nrn": true}

func suppressed(fields []string) string {
	for _, f := range fields {
		for _, v := range strings.Split(f, ",") {
			if v = strings.TrimSpace(v); suppressValues[strings.ToLower(v)] {
				return v
			}
		}
	}
	return ""
}

func loopsBack(fields []string, ours []string) bool {
	for _, f := range fields {
		f = strings.ToLower(f)
		for _, addr := range ours {
			if addr = strings.ToLower(strings.TrimSpace(addr)); addr != "" && strings.Contains(f, addr) {
				return true
			}
		}
	}
	return false
}

// nullSender reports an empty envelope sender: "<>" from the caller, or a
// Return-Path field that is present but empty or "<>".
func nullSender(h HeaderGetter, envelopeFrom string) bool {
	if strings.TrimSpace(envelopeFrom) == "<>" {
		return true
	}
	var rp []string
	if hv, ok := h.(headerValues); ok {
		rp = hv.Values("Return-Path")
	} else if v := h.Get("Return-Path"); v != "" {
		rp = []string{v}
	}
	for _, v := range rp {
		v = strings.Join(strings.Fields(v), "")
		if v == "" || v == "<>" {
			return true
		}
	}
	return false
}

// robotSender names the kind of robot addr belongs to, or "".
func robotSender(addr string) string {
	local := localPart(addr)
	if local == "" {
		return ""
	}
	local, _, _ = strings.Cut(local, "+")
	norm := strings.NewReplacer("-", "", "_", "", ".", "").Replace(strings.ToLower(local))
	switch {
	case norm == "mailerdaemon":
		return "MAILER-DAEMON"
	case norm == "postmaster":
		return "postmaster"
	case strings.HasPrefix(norm, "noreply"), strings.HasPrefix(norm, "donotreply"), strings.HasPrefix(norm, "dontreply"):
		return "a no-reply address"
	}
	return ""
}

// localPart is the part before "@" of an address field, parsed leniently
// because robots write odd From fields ("MAILER-DAEMON (Mail Delivery
// System)", a bare "MAILER-DAEMON").
func localPart(field string) string {
	field = strings.TrimSpace(field)
	if field == "" || field == "<>" {
		return ""
	}
	addr := field
	if a, err := mail.ParseAddress(field); err == nil {
		addr = a.Address
	} else if i := strings.LastIndexByte(field, '<'); i >= 0 {
		addr = strings.TrimSuffix(field[i+1:], ">")
		if j := strings.IndexByte(addr, '>'); j >= 0 {
			addr = addr[:j]
		}
	} else if f := strings.Fields(field); len(f) > 0 {
		addr = f[0]
	}
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		addr = addr[:i]
	}
	return strings.Trim(strings.TrimSpace(addr), `"<>`)
}
