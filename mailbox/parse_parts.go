package mailbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	htmlcharset "golang.org/x/net/html/charset"
)

// walk handles one MIME entity (header h, still-encoded body) and, for a
// multipart, its children. def is the content type when none is given.
func (mp *mimeParser) walk(p *Parsed, b *mimeBodies, h mimeHeader, body []byte, nested, depth int, def string) {
	if mp.parts >= maxMIMEParts {
		mp.skippedParts++
		return
	}
	if depth > maxMIMEDepth {
		mp.skippedDeep++
		return
	}
	mp.parts++
	ctRaw := h.get("Content-Type")
	ct, params := mimeParams(ctRaw)
	if !strings.Contains(ct, "/") {
		if strings.TrimSpace(ctRaw) != "" {
			mp.warn("unreadable Content-Type %q read as %s", mimeShort(ctRaw), def)
		}
		ct, params = def, map[string]string{}
	}
	disp, dparams := mimeParams(h.get("Content-Disposition"))
	enc, known := mimeTransferEncoding(h.get("Content-Transfer-Encoding"))
	if !known {
		mp.warn("unknown Content-Transfer-Encoding %q read as 8bit", mimeShort(h.get("Content-Transfer-Encoding")))
	}
	name := mimeFilename(dparams["filename"])
	if name == "" {
		name = mimeFilename(params["name"])
	}
	cid := strings.Trim(strings.TrimSpace(mimeClean(h.get("Content-Id"))), "<>")
	part := mimePart{name: name, contentType: ct, enc: enc, body: body, contentID: cid,
		inline: disp == "inline" || disp == "" && cid != ""}

	switch {
	case strings.HasPrefix(ct, "multipart/"):
		mp.multipart(p, b, ct, params, body, nested, depth)
	case ct == "message/rfc822" || ct == "message/global" || ct == "text/rfc822-headers":
		mp.nestedMessage(p, part, nested, depth)
	case ct == "message/delivery-status" || ct == "message/global-delivery-status":
		if p.DeliveryStatus == nil {
			p.DeliveryStatus, _ = mimeDecodeLimited(enc, body, maxDeliveryStatus)
		}
	case (ct == "text/plain" || ct == "text/html") && disp != "attachment" && name == "":
		text := mp.text(ct, params, enc, body)
		if ct == "text/plain" {
			b.texts = append(b.texts, text)
		} else {
			b.htmls = append(b.htmls, text)
		}
	default:
		mp.attach(p, part)
	}
}

// mimePart is a leaf part on its way to becoming an attachment.
type mimePart struct {
	name, contentType, enc, contentID string
	inline                            bool
	body                              []byte
}

// multipart walks the children of a multipart body. Of the children of a
// multipart/alternative it keeps the first plain text and the last (the
// richest) HTML; every other multipart contributes all its children.
func (mp *mimeParser) multipart(p *Parsed, b *mimeBodies, ct string, params map[string]string, body []byte, nested, depth int) {
	if ct == "multipart/report" && p.ReportType == "" {
		p.ReportType = strings.ToLower(strings.TrimSpace(params["report-type"]))
	}
	boundary := params["boundary"]
	if boundary == "" {
		boundary = mimeGuessBoundary(body)
		if boundary == "" {
			mp.warn("%s without a boundary read as text", ct)
			b.texts = append(b.texts, mp.text("text/plain", nil, "8bit", body))
			return
		}
		mp.warn("%s without a boundary parameter: guessed %q", ct, mimeShort(boundary))
	}
	parts, closed, more := mimeSplitMultipart(body, boundary, maxMIMEParts-mp.parts)
	mp.skippedParts += more
	if len(parts) == 0 && more > 0 {
		return
	}
	if len(parts) == 0 {
		mp.warn("%s body without any part read as text", ct)
		b.texts = append(b.texts, mp.text("text/plain", nil, "8bit", body))
		return
	}
	if !closed {
		mp.warn("%s body ends without its closing boundary", ct)
	}
	def := "text/plain"
	if ct == "multipart/digest" {
		def = "message/rfc822"
	}
	if ct != "multipart/alternative" {
		for _, part := range parts {
			if ph, pb, ok := mp.splitPart(part); ok {
				mp.walk(p, b, ph, pb, nested, depth+1, def)
			}
		}
		return
	}
	var texts, htmls []string
	for _, part := range parts {
		var sub mimeBodies
		ph, pb, ok := mp.splitPart(part)
		if !ok {
			continue
		}
		mp.walk(p, &sub, ph, pb, nested, depth+1, def)
		if texts == nil && !mimeAllSpace(sub.texts) {
			texts = sub.texts
		}
		if len(sub.htmls) > 0 {
			htmls = sub.htmls
		}
	}
	b.texts = append(b.texts, texts...)
	b.htmls = append(b.htmls, htmls...)
}

// nestedMessage parses a message/rfc822 (or text/rfc822-headers) part into
// p.Nested; past the nesting limit, or when it is not a message, the part is
// kept as an attachment instead.
func (mp *mimeParser) nestedMessage(p *Parsed, part mimePart, nested, depth int) {
	data := part.body
	if part.enc != "8bit" {
		data, _ = mimeDecodeLimited(part.enc, part.body, int64(len(part.body)))
	}
	if nested < maxNestedMessages {
		sub, err := mp.message(data, nested+1, depth)
		if err == nil {
			p.Nested = append(p.Nested, sub)
			return
		}
		mp.warn("nested %s kept as an attachment: %v", part.contentType, err)
	}
	part.enc = "8bit"
	part.body = data
	mp.attach(p, part)
}

// mimeAllSpace reports whether the texts hold nothing but white space.
func mimeAllSpace(texts []string) bool {
	for _, t := range texts {
		if strings.TrimSpace(t) != "" {
			return false
		}
	}
	return true
}

// text decodes a body part to UTF-8 with "\n" line endings, cut at
// MaxBodyBytes. An 8bit body is read in place, not copied.
func (mp *mimeParser) text(ct string, params map[string]string, enc string, body []byte) string {
	data, cut := body, false
	if enc != "8bit" {
		data, cut = mimeDecodeLimited(enc, body, mp.opts.MaxBodyBytes)
	} else if int64(len(data)) > mp.opts.MaxBodyBytes {
		data, cut = data[:mp.opts.MaxBodyBytes], true
	}
	if cut {
		mp.warn("a %s body longer than %d bytes was cut", ct, mp.opts.MaxBodyBytes)
	}
	label, declared := params["charset"]
	if !declared && ct == "text/html" {
		// No charset parameter: a <meta charset> or a BOM may say.
		// DetermineEncoding calls a <meta> uncertain; bytes that are not
		// UTF-8 settle it.
		if _, name, certain := htmlcharset.DetermineEncoding(data, "text/html"); certain || !utf8.Valid(data) {
			label = name
		}
	}
	if declared && !mimeCharsetKnown(label) {
		mp.warn("unknown charset %q read as UTF-8 or Windows-1252", mimeShort(label))
	}
	return mimeBodyString(label, data)
}

// attach keeps part as an attachment while the message's attachment budget
// lasts; past it, the part is only hashed and sized, as a stream, and
// listed in Dropped. A part whose decoded size cannot exceed the budget is
// decoded once into a buffer of that size; a larger one costs no more than
// the hashing buffer, unless noise in its encoding made it fit after all.
func (mp *mimeParser) attach(p *Parsed, part mimePart) {
	limit := mp.budget
	if mimeDecodedBound(part.enc, part.body) > limit {
		size, sum := mp.hashPart(part)
		if size > limit {
			p.Dropped = append(p.Dropped, DroppedAttachment{
				Filename: part.name, ContentType: part.contentType, Size: size, SHA256: sum,
				Reason: fmt.Sprintf("attachments over the limit of %d bytes per message", mp.opts.MaxAttachmentBytes),
			})
			return
		}
		limit = size
	}
	data, _ := mimeDecodeLimited(part.enc, part.body, limit)
	if cap(data)-len(data) > len(data)/4 {
		// The bound was far off (quoted-printable full of escapes):
		// do not keep the slack alive with the attachment.
		data = append([]byte(nil), data...)
	}
	sum := sha256.Sum256(data)
	size := int64(len(data))
	mp.budget -= size
	p.Attachments = append(p.Attachments, Attachment{
		Filename: part.name, ContentType: part.contentType, Size: size, SHA256: hex.EncodeToString(sum[:]),
		Data: data, Inline: part.inline, ContentID: part.contentID,
	})
}

// hashPart decodes part as a stream and returns its size and SHA-256.
func (mp *mimeParser) hashPart(part mimePart) (int64, string) {
	if mp.scratch == nil {
		mp.scratch = make([]byte, 32<<10)
	}
	r := mimeTransferReader(part.enc, part.body)
	h := sha256.New()
	var size int64
	for {
		n, err := r.Read(mp.scratch)
		h.Write(mp.scratch[:n])
		size += int64(n)
		if err != nil {
			break
		}
	}
	return size, hex.EncodeToString(h.Sum(nil))
}

// mimeSplitMultipart cuts a multipart body at its boundary lines into at
// most limit parts; more counts the parts past the limit. It reports
// whether the closing boundary was seen; without one, the last part runs
// to the end of the body (a truncated message keeps its parts).
func mimeSplitMultipart(body []byte, boundary string, limit int) (parts [][]byte, closed bool, more int) {
	delim := []byte("--" + boundary)
	start, pos := -1, 0
	add := func(part []byte) {
		if len(parts) < limit {
			parts = append(parts, part)
		} else {
			more++
		}
	}
	for pos <= len(body) {
		i := bytes.Index(body[pos:], delim)
		if i < 0 {
			break
		}
		i += pos
		pos = i + len(delim)
		if i > 0 && body[i-1] != '\n' {
			continue // not at the start of a line
		}
		after := body[pos:]
		isClose := bytes.HasPrefix(after, []byte("--"))
		line, next := mimeLine(after)
		if !isClose && len(bytes.Trim(line, " \t")) != 0 {
			continue // a longer boundary that starts with ours
		}
		if start >= 0 {
			end := i
			if end > start && body[end-1] == '\n' {
				end--
				if end > start && body[end-1] == '\r' {
					end--
				}
			}
			add(body[start:end])
		}
		if isClose {
			return parts, true, more
		}
		start = len(body) - len(next)
		pos = start
	}
	if start >= 0 {
		add(body[start:])
	}
	return parts, false, more
}

// mimeGuessBoundary finds the boundary of a multipart whose Content-Type
// lost its parameter: the first line that starts with "--".
func mimeGuessBoundary(body []byte) string {
	for rest := body; len(rest) > 0; {
		var line []byte
		line, rest = mimeLine(rest)
		if bytes.HasPrefix(line, []byte("--")) && len(bytes.TrimSpace(line)) > 2 {
			return string(bytes.TrimSpace(line[2:]))
		}
	}
	return ""
}

// splitPart separates a part's header from its body; a part whose first
// line is not a field has no header at all. A part whose header is over
// maxHeaderBytes is skipped (ok false) and counted in Dropped by reportSkipped.
func (mp *mimeParser) splitPart(part []byte) (h mimeHeader, body []byte, ok bool) {
	h, body, cut, err := mimeSplitHeader(part)
	switch {
	case errors.Is(err, ErrTooLarge):
		mp.skippedHeaders++
		return nil, nil, false
	case err != nil:
		return nil, part, true
	}
	if cut > 0 {
		mp.warn("%s", mimeFieldsCut(cut))
	}
	return h, body, true
}

// mimeShort bounds a sender-controlled string quoted in a warning.
func mimeShort(s string) string {
	s = mimeClean(s)
	if len(s) > 60 {
		return strings.ToValidUTF8(s[:60], "") + "…"
	}
	return s
}
