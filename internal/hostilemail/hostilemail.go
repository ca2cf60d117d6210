// Package hostilemail builds a corpus of hostile emails for the tests of
// issue 7: script in every place HTML and SVG can hide it, look-alike
// senders, header injection, and MIME built to exhaust a parser. Samples
// are generated in code, so the 10,000-part message is not a file.
//
// Every script payload tries to leave a trace a test can see: it sets
// document.title to PwnedTitle, requests PwnedPath on the page's own
// origin, posts a message to the parent window and opens an alert.
package hostilemail

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// The traces a payload leaves when it runs.
const (
	// PwnedTitle is what a payload sets document.title to.
	PwnedTitle = "PWNED"
	// PwnedPath is requested, on the page's origin, by a payload that runs
	// or a URL that loads (?m=<sample marker>).
	PwnedPath = "/pwned"
)

// SupportAddress is where the samples are addressed.
const SupportAddress = "support@desk.test"

// Sample is one hostile email and what it takes to check it.
type Sample struct {
	// Name identifies the sample in test output (and in its Subject).
	Name string
	// Raw is the message as a mailbox would deliver it, CRLF line ends.
	Raw []byte
	// MessageID is the Message-ID header's value, angle brackets included.
	MessageID string
	// Marker is unique to this sample and call of Corpus; its payloads
	// carry it, e.g. in PwnedPath?m=<Marker>.
	Marker string
	// From is the real sender address (what the desk must store and show,
	// whatever the display name pretends).
	From string
	// LookAlike is the display name of a sample whose name pretends to be
	// someone else, "" otherwise.
	LookAlike string
	// Literal is text the case page must show as text, verbatim; "" when
	// the sample has none.
	Literal string
	// Attachment is the filename of a hostile attachment, "" when none.
	Attachment string
	// Heavy marks the samples built to exhaust a parser (many parts, deep
	// nesting, huge headers): a parser may refuse them (quarantine).
	Heavy bool
	// Oversized marks samples with more parts or depth than a parser
	// should keep: when one is stored, what was skipped must be recorded
	// for staff to see.
	Oversized bool
}

// Payload is the JavaScript a sample tries to run: it leaves every trace
// (title, request to PwnedPath, postMessage, alert) tagged with marker.
// It contains no quote characters, so it fits any attribute.
func Payload(marker string) string {
	return fmt.Sprintf("document.title=`%s`;fetch(`%s?m=%s`);window.parent.postMessage(`%s`,`*`);alert(`%s`)",
		PwnedTitle, PwnedPath, marker, marker, marker)
}

// Corpus returns the hostile samples. Each call makes fresh Message-IDs,
// markers and sender addresses, so samples from two calls never collide
// as duplicates in one mailbox.
func Corpus() []Sample {
	run := nonce()
	var out []Sample
	for _, b := range builders {
		s := b(run)
		out = append(out, s)
	}
	return out
}

// nonce is a short random hex string.
func nonce() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("hostilemail: random: %v", err)) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// draft is a sample under construction.
type draft struct {
	name, run string
	// header lines after the common ones, each without CRLF.
	headers []string
	// fromHeader replaces the default From field's value.
	fromHeader string
	subject    string
	// contentType and body are the message's body.
	contentType string
	body        string
	s           Sample
}

func newDraft(name, run string) *draft {
	marker := name + "-" + run
	d := &draft{name: name, run: run, subject: "Hostile sample " + name}
	d.s = Sample{
		Name:      name,
		MessageID: "<" + marker + "@hostile.example>",
		Marker:    marker,
		From:      strings.ToLower(name) + "-" + run + "@sender.example",
	}
	d.contentType = "text/plain; charset=utf-8"
	return d
}

// payload is Payload for this sample.
func (d *draft) payload() string { return Payload(d.s.Marker) }

// pwnedURL is the relative URL a loaded resource of this sample requests.
func (d *draft) pwnedURL() string { return PwnedPath + "?m=" + d.s.Marker }

// build assembles the message.
func (d *draft) build() Sample {
	var b strings.Builder
	from := d.fromHeader
	if from == "" {
		from = "Hostile Sender <" + d.s.From + ">"
	}
	fmt.Fprintf(&b, "From: %s\r\n", from)
	fmt.Fprintf(&b, "To: %s\r\n", SupportAddress)
	fmt.Fprintf(&b, "Subject: %s\r\n", d.subject)
	fmt.Fprintf(&b, "Date: Mon, 16 Nov 2026 10:00:00 +0000\r\n")
	fmt.Fprintf(&b, "Message-ID: %s\r\n", d.s.MessageID)
	b.WriteString("MIME-Version: 1.0\r\n")
	for _, h := range d.headers {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "Content-Type: %s\r\n", d.contentType)
	b.WriteString("\r\n")
	b.WriteString(crlf(d.body))
	d.s.Raw = []byte(b.String())
	return d.s
}

// crlf turns "\n" line ends into CRLF (leaving existing CRLF alone).
func crlf(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}

// htmlAlternative makes d a multipart/alternative of a harmless text part
// and html.
func (d *draft) htmlAlternative(html string) {
	boundary := "alt-" + d.run
	d.contentType = `multipart/alternative; boundary="` + boundary + `"`
	d.body = "--" + boundary + "\n" +
		"Content-Type: text/plain; charset=utf-8\n\n" +
		"Plain part of " + d.name + ".\n" +
		"--" + boundary + "\n" +
		"Content-Type: text/html; charset=utf-8\n\n" +
		html + "\n" +
		"--" + boundary + "--\n"
}

// withAttachment makes d a multipart/mixed of a text part and one base64
// attachment.
func (d *draft) withAttachment(filename, contentType, data string) {
	boundary := "mix-" + d.run
	d.s.Attachment = filename
	d.contentType = `multipart/mixed; boundary="` + boundary + `"`
	d.body = "--" + boundary + "\n" +
		"Content-Type: text/plain; charset=utf-8\n\n" +
		"Please see the attached file.\n" +
		"--" + boundary + "\n" +
		"Content-Type: " + contentType + "; name=\"" + filename + "\"\n" +
		"Content-Disposition: attachment; filename=\"" + filename + "\"\n" +
		"Content-Transfer-Encoding: base64\n\n" +
		wrap(base64.StdEncoding.EncodeToString([]byte(data)), 76) + "\n" +
		"--" + boundary + "--\n"
}

// wrap cuts s into lines of n characters.
func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n])
		b.WriteString("\n")
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

// encodedWord is s as an RFC 2047 base64 encoded word.
func encodedWord(s string) string {
	return "=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte(s)) + "?="
}

// b64 is s in standard base64.
func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
