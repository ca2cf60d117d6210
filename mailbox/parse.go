package mailbox

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// Default limits of ParseOptions.
const (
	DefaultMaxAttachmentBytes = 25 << 20
	DefaultMaxBodyBytes       = 8 << 20
)

// Structural limits that keep a hostile message from exhausting the
// stack, the memory or the CPU; real mail stays far below them. Parse
// never fails for reaching them, except maxHeaderBytes at the top level:
// what lies past a limit is skipped and the result says so, in Dropped
// (MIME parts) or Warnings (header fields).
const (
	// maxNestedMessages is how many message/rfc822 levels are parsed
	// into Parsed.Nested; deeper ones are kept as attachments. A bounce
	// of a forward of a forward is three.
	maxNestedMessages = 5
	// maxMIMEDepth counts multipart and message levels together; parts
	// below it are skipped (one Dropped entry counts them). Real mail
	// nests a few levels (mixed > alternative > related); the walk
	// recurses once per level, and each level rescans its body for its
	// boundary, so the depth bounds both the stack and the work.
	maxMIMEDepth = 40
	// maxMIMEParts is how many MIME entities one Parse walks, nested
	// messages included; the rest are counted in one Dropped entry. Each
	// part costs a header parse and a few small allocations, so the cap
	// bounds the Parsed value (and the time) for a 10,000-part bomb.
	maxMIMEParts = 1000
	// maxHeaderBytes bounds one header section. Past it, a message is
	// refused with ErrTooLarge (quarantined with its raw bytes); a MIME
	// part's header that large makes the part skipped.
	maxHeaderBytes = 1 << 20
	// maxHeaderFields is how many fields of one header section are kept;
	// 100,000 tiny fields fit in maxHeaderBytes but would make a Headers
	// slice 40 times that size. Real messages carry well under 200 (a
	// long Received chain included).
	maxHeaderFields = 1000
	// maxDeliveryStatus bounds the message/delivery-status kept.
	maxDeliveryStatus = 256 << 10
)

// ParseOptions tune Parse; the zero value means the defaults.
type ParseOptions struct {
	// MaxAttachmentBytes caps the decoded attachment bytes kept for one
	// message, nested messages included (default 25 MiB). An attachment
	// that does not fit is hashed and sized but listed in Dropped.
	MaxAttachmentBytes int64
	// MaxBodyBytes caps each decoded text or HTML body part (default
	// 8 MiB); a longer one is cut and a warning recorded.
	MaxBodyBytes int64
}

// Parsed is an incoming message normalised for the desk: decoded headers,
// UTF-8 bodies, attachments with their hashes, and nested messages.
type Parsed struct {
	// MessageID is the normalised Message-ID (see NormalizeMessageID);
	// empty when the message has none.
	MessageID string
	// InReplyTo is the first ID of In-Reply-To; References lists the IDs
	// of References in order. Both are normalised.
	InReplyTo  string
	References []string

	// From is the first address of the From field; zero when it is empty.
	From    mail.Address
	ReplyTo []mail.Address
	To, Cc  []mail.Address
	// Subject is RFC 2047 decoded, on one line.
	Subject string
	// Date is zero when the field is missing or cannot be understood.
	Date time.Time

	// Headers are the message's own header fields in order, duplicates
	// included. Get and Values read them.
	Headers []HeaderField

	// Text is the text/plain body (several inline text parts joined);
	// when the message has only HTML, a plain rendering of it. Line
	// endings are "\n".
	Text string
	// HTML is the text/html body, unsanitised: display code must sanitise.
	HTML string

	Attachments []Attachment
	// Dropped lists attachments that were not kept, with the reason.
	Dropped []DroppedAttachment
	// Nested holds message/rfc822 parts (forwards, the original of a
	// bounce) and text/rfc822-headers parts, parsed the same way.
	Nested []*Parsed

	// ReportType is the report-type parameter of a multipart/report body
	// (e.g. "delivery-status"), lower-cased.
	ReportType string
	// DeliveryStatus is the decoded message/delivery-status part of a
	// bounce, for the bounce handler to read.
	DeliveryStatus []byte

	// Warnings name what was repaired or guessed while parsing (an unknown
	// charset, a missing closing boundary, ...). They never stop parsing.
	Warnings []string
}

// HeaderField is one header field. Raw is the unfolded value as sent (8-bit
// bytes turned into UTF-8) for hygiene checks; Value is Raw with RFC 2047
// encoded words decoded.
type HeaderField struct {
	Name  string // canonical form, e.g. "Message-Id", "X-Loop"
	Raw   string
	Value string
}

// Attachment is a kept attachment or inline part (e.g. an image of a
// multipart/related HTML body).
type Attachment struct {
	// Filename is the last path element of the sender's name, decoded
	// (RFC 2231 or RFC 2047); empty when the part has none.
	Filename    string
	ContentType string // lower-case media type, e.g. "image/png"
	Size        int64  // decoded bytes
	SHA256      string // hex of the decoded bytes
	Data        []byte
	// Inline is set for Content-Disposition: inline parts and for parts
	// referenced by Content-ID inside multipart/related.
	Inline    bool
	ContentID string // without angle brackets
}

// DroppedAttachment is an attachment that was not kept.
type DroppedAttachment struct {
	Filename    string
	ContentType string
	Size        int64  // decoded bytes, counted while hashing
	SHA256      string // hex of the decoded bytes
	Reason      string
}

// ErrNotMessage reports input that has no header section at all; such
// input goes to quarantine. Test with errors.Is.
var ErrNotMessage = errors.New("not an email message")

// ErrTooLarge reports a message past a hard limit of the parser (a header
// section over 1 MiB); like ErrNotMessage, such input goes to quarantine.
var ErrTooLarge = errors.New("message beyond the parser's limits")

// Parse decodes raw, an RFC 5322 message, into a Parsed value. It repairs
// what it can (charsets, encodings, broken multiparts) and records the
// repairs in Warnings. It fails only when raw is not a message at all
// (ErrNotMessage) or is past a hard limit (ErrTooLarge). It allocates
// little beyond its result: attachments over the limit are hashed as a
// stream, and the raw bytes are read in place, never copied whole.
func Parse(raw []byte, o ParseOptions) (*Parsed, error) {
	if o.MaxAttachmentBytes <= 0 {
		o.MaxAttachmentBytes = DefaultMaxAttachmentBytes
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	mp := &mimeParser{opts: o, budget: o.MaxAttachmentBytes}
	p, err := mp.message(raw, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("mailbox: parse: %w", err)
	}
	mp.reportSkipped(p)
	return p, nil
}

// Get returns the raw value of the first field called name (any case), or
// "" when there is none; use Values to tell an empty field from a missing
// one (an empty Return-Path marks a bounce or an auto-reply).
func (p *Parsed) Get(name string) string {
	if v := p.Values(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Values returns the raw values of every field called name, in order; nil
// when there is none.
func (p *Parsed) Values(name string) []string {
	var out []string
	for _, f := range p.Headers {
		if strings.EqualFold(f.Name, name) {
			out = append(out, f.Raw)
		}
	}
	return out
}
