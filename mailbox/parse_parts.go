package mailbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	htmlcharset "golang.org/x/net/html/charset"
)

// walk handles one MIME entity (header h, still-encoded body) and, for a
// multipart, its children. def is the content type when none is given.
func (mp *mimeParser) walk(p *Parsed, b *mimeBodies, h mimeHeader, body []byte, nested, depth int, def string) {
	mp.parts++
	if mp.parts > maxMIMEParts {
		if !mp.tooMany {
			mp.tooMany = true
			p.Dropped = append(p.Dropped, DroppedAttachment{Reason: fmt.Sprintf("more than %d MIME parts; the rest were skipped", maxMIMEParts)})
		}
		return
	}
	if depth > maxMIMEDepth {
		p.Dropped = append(p.Dropped, DroppedAttachment{Reason: fmt.Sprintf("MIME parts nested more than %d deep were skipped", maxMIMEDepth)})
		return
	}
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
			p.DeliveryStatus, _ = mimeReadLimited(mimeTransferReader(enc, body), maxDeliveryStatus)
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
	parts, closed := mimeSplitMultipart(body, boundary)
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
			ph, pb := mimeSplitPart(part)
			mp.walk(p, b, ph, pb, nested, depth+1, def)
		}
		return
	}
	var texts, htmls []string
	for _, part := range parts {
		var sub mimeBodies
		ph, pb := mimeSplitPart(part)
		mp.walk(p, &sub, ph, pb, nested, depth+1, def)
		if texts == nil && strings.TrimSpace(strings.Join(sub.texts, "")) != "" {
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
		data, _ = mimeReadLimited(mimeTransferReader(part.enc, part.body), int64(len(part.body)))
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

// text decodes a body part to UTF-8, cut at MaxBodyBytes.
func (mp *mimeParser) text(ct string, params map[string]string, enc string, body []byte) string {
	data, cut := mimeReadLimited(mimeTransferReader(enc, body), mp.opts.MaxBodyBytes)
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
	return mimeClean(mimeDecodeCharset(label, data))
}

// attach decodes part as a stream, hashing and counting every byte but
// keeping them only while the message's attachment budget lasts.
func (mp *mimeParser) attach(p *Parsed, part mimePart) {
	r := mimeTransferReader(part.enc, part.body)
	h := sha256.New()
	var size int64
	keep := true
	kept := make([]byte, 0, min(int64(len(part.body)), mp.budget))
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			h.Write(buf[:n])
			size += int64(n)
			if keep && size > mp.budget {
				keep, kept = false, nil
			}
			if keep {
				kept = append(kept, buf[:n]...)
			}
		}
		if err != nil {
			break
		}
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if !keep {
		p.Dropped = append(p.Dropped, DroppedAttachment{
			Filename: part.name, ContentType: part.contentType, Size: size, SHA256: sum,
			Reason: fmt.Sprintf("attachments over the limit of %d bytes per message", mp.opts.MaxAttachmentBytes),
		})
		return
	}
	mp.budget -= size
	p.Attachments = append(p.Attachments, Attachment{
		Filename: part.name, ContentType: part.contentType, Size: size, SHA256: sum,
		Data: kept, Inline: part.inline, ContentID: part.contentID,
	})
}

// mimeSplitMultipart cuts a multipart body at its boundary lines. It
// reports whether the closing boundary was seen; without one, the last
// part runs to the end of the body (a truncated message keeps its parts).
func mimeSplitMultipart(body []byte, boundary string) (parts [][]byte, closed bool) {
	delim := []byte("--" + boundary)
	start, pos := -1, 0
	for pos <= len(body) && len(parts) < maxMIMEParts {
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
			parts = append(parts, body[start:end])
		}
		if isClose {
			return parts, true
		}
		start = len(body) - len(next)
		pos = start
	}
	if start >= 0 {
		parts = append(parts, body[start:])
	}
	return parts, false
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

// mimeSplitPart separates a part's header from its body; a part whose
// first line is not a field has no header at all.
func mimeSplitPart(part []byte) (mimeHeader, []byte) {
	h, body, err := mimeSplitHeader(part)
	if err != nil {
		return nil, part
	}
	return h, body
}

// mimeReadLimited reads r up to max bytes and reports whether it had more.
func mimeReadLimited(r io.Reader, max int64) ([]byte, bool) {
	data, _ := io.ReadAll(io.LimitReader(r, max+1))
	if int64(len(data)) > max {
		return data[:max], true
	}
	return data, false
}

// mimeShort bounds a sender-controlled string quoted in a warning.
func mimeShort(s string) string {
	s = mimeClean(s)
	if len(s) > 60 {
		return strings.ToValidUTF8(s[:60], "") + "…"
	}
	return s
}
