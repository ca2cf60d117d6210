package mailbox

import (
	"fmt"
	"strings"
)

// mimeParser holds what one Parse call shares across nested messages: the
// options, the attachment bytes still allowed, and the count of parts seen.
type mimeParser struct {
	opts   ParseOptions
	budget int64
	parts  int
	// skippedParts, skippedDeep and skippedHeaders count the parts past
	// maxMIMEParts, below maxMIMEDepth and with a header over
	// maxHeaderBytes; reportSkipped lists them in Dropped.
	skippedParts, skippedDeep, skippedHeaders int
	scratch                                   []byte    // hashPart's read buffer, shared by all parts
	warnings                                  *[]string // of the message being walked
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
	h, body, cut, err := mimeSplitHeader(raw)
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
	if cut > 0 {
		p.Warnings = append(p.Warnings, mimeFieldsCut(cut))
	}

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
		if l, _ := mimeAddressList(f.Raw, maxAddresses); len(l) > 0 {
			p.From = l[0]
		}
	}
	cut := map[string]bool{}
	if f, ok := first("Reply-To"); ok {
		p.ReplyTo, cut["Reply-To"] = mimeAddressList(f.Raw, maxAddresses)
	}
	for _, f := range p.Headers {
		var c bool
		switch f.Name {
		case "To":
			p.To, c = mimeAddAddresses(p.To, f.Raw)
		case "Cc":
			p.Cc, c = mimeAddAddresses(p.Cc, f.Raw)
		}
		if c {
			cut[f.Name] = true
		}
	}
	for _, name := range []string{"To", "Cc", "Reply-To"} {
		if cut[name] {
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s addresses past the first %d were skipped", name, maxAddresses))
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

// mimeFieldsCut is the warning for header fields past maxHeaderFields.
func mimeFieldsCut(n int) string {
	return fmt.Sprintf("%d header fields past the first %d were skipped", n, maxHeaderFields)
}

// reportSkipped lists in the top-level result's Dropped what the structural
// limits cut, once each, with counts: the desk shows Dropped to staff, who
// can then look at the raw message.
func (mp *mimeParser) reportSkipped(p *Parsed) {
	if mp.skippedParts > 0 {
		p.Dropped = append(p.Dropped, DroppedAttachment{Reason: fmt.Sprintf(
			"more than %d MIME parts: %d more were skipped, with what they contain", maxMIMEParts, mp.skippedParts)})
	}
	if mp.skippedDeep > 0 {
		p.Dropped = append(p.Dropped, DroppedAttachment{Reason: fmt.Sprintf(
			"%d MIME parts nested more than %d deep were skipped, with what they contain", mp.skippedDeep, maxMIMEDepth)})
	}
	if mp.skippedHeaders > 0 {
		p.Dropped = append(p.Dropped, DroppedAttachment{Reason: fmt.Sprintf(
			"%d MIME parts with a header over %d bytes were skipped", mp.skippedHeaders, maxHeaderBytes)})
	}
}

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

// mimeJoinBodies joins inline body parts (whose line endings text has
// already made "\n") with a line break between them.
func mimeJoinBodies(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	n := 0
	for _, s := range parts {
		n += len(s) + 1
	}
	var b strings.Builder
	b.Grow(n)
	for _, s := range parts {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteByte('\n')
		}
		b.WriteString(s)
	}
	return b.String()
}
