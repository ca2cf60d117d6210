package mailbox

import (
	"fmt"
	"strings"
)

// mimeParser holds what one Parse call shares across nested messages: the
// options, the attachment bytes still allowed, and the count of parts seen.
type mimeParser struct {
	opts     ParseOptions
	budget   int64
	parts    int
	tooMany  bool
	warnings *[]string // of the message being walked
}

// mimeBodies collects the output of walking a MIME tree; a
// multipart/alternative walks each child into its own and keeps one text.
type mimeBodies struct {
	texts, htmls []string
}

// message parses one message (the top level, or a nested message/rfc822)
// at nesting level nested and MIME depth depth.
func (mp *mimeParser) message(raw []byte, nested, depth int) (*Parsed, error) {
	if nested == 0 {
		raw = mimeTrimEnvelope(raw)
	}
	h, body, err := mimeSplitHeader(raw)
	if err != nil {
		return nil, err
	}
	if nested == 0 && !mimeLooksLikeMessage(h) {
		return nil, fmt.Errorf("%w: no From, To, Subject, Date, Message-ID or Received field", ErrNotMessage)
	}
	_, ctParams := mimeParams(h.get("Content-Type"))
	fields := mimeFields(h, ctParams["charset"])
	p := &Parsed{Headers: fields}
	p.readEnvelope()

	outer := mp.warnings
	mp.warnings = &p.Warnings
	var b mimeBodies
	mp.walk(p, &b, h, body, nested, depth+1, "text/plain")
	mp.warnings = outer

	p.Text = mimeJoinBodies(b.texts)
	p.HTML = mimeJoinBodies(b.htmls)
	if strings.TrimSpace(p.Text) == "" && strings.TrimSpace(p.HTML) != "" {
		p.Text = mimeHTMLText(p.HTML)
	}
	return p, nil
}

// mimeLooksLikeMessage rejects input whose first lines happen to look like
// fields but that carries none of the fields every message has one of.
func mimeLooksLikeMessage(h mimeHeader) bool {
	for _, f := range h {
		switch f.name {
		case "From", "To", "Cc", "Subject", "Date", "Message-Id", "Received",
			"Return-Path", "Sender", "Reply-To", "Delivered-To", "Mime-Version", "Content-Type":
			return true
		}
	}
	return false
}

// readEnvelope fills the addressing and threading fields from Headers.
func (p *Parsed) readEnvelope() {
	first := func(name string) (HeaderField, bool) {
		for _, f := range p.Headers {
			if f.Name == name {
				return f, true
			}
		}
		return HeaderField{}, false
	}
	if f, ok := first("Message-Id"); ok {
		if ids := ParseMessageIDList(f.Raw); len(ids) > 0 {
			p.MessageID = ids[0]
		} else if id := NormalizeMessageID(f.Raw); !strings.ContainsAny(f.Raw, " \t") {
			p.MessageID = id // an ID without '@' or brackets, still an ID
		}
	}
	if f, ok := first("In-Reply-To"); ok {
		if ids := ParseMessageIDList(f.Raw); len(ids) > 0 {
			p.InReplyTo = ids[0]
		}
	}
	if f, ok := first("References"); ok {
		p.References = ParseMessageIDList(f.Raw)
	}
	if f, ok := first("From"); ok {
		if l := mimeAddressList(f.Raw); len(l) > 0 {
			p.From = l[0]
		}
	}
	if f, ok := first("Reply-To"); ok {
		p.ReplyTo = mimeAddressList(f.Raw)
	}
	for _, f := range p.Headers {
		switch f.Name {
		case "To":
			p.To = append(p.To, mimeAddressList(f.Raw)...)
		case "Cc":
			p.Cc = append(p.Cc, mimeAddressList(f.Raw)...)
		}
	}
	if f, ok := first("Subject"); ok {
		p.Subject = strings.TrimSpace(mimeOneLine.Replace(f.Value))
	}
	if f, ok := first("Date"); ok {
		p.Date = mimeParseDate(f.Raw)
	}
}

var mimeOneLine = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ", "\t", " ")

// warn records a repair on the message being walked.
func (mp *mimeParser) warn(format string, args ...any) {
	if mp.warnings == nil || len(*mp.warnings) >= 20 {
		return
	}
	w := fmt.Sprintf(format, args...)
	for _, old := range *mp.warnings {
		if old == w {
			return
		}
	}
	*mp.warnings = append(*mp.warnings, w)
}

// mimeJoinBodies joins inline body parts with a line break between them
// and normalises line endings to "\n".
func mimeJoinBodies(parts []string) string {
	var b strings.Builder
	for _, s := range parts {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteByte('\n')
		}
		b.WriteString(s)
	}
	s := strings.ReplaceAll(b.String(), "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}
