package mailbox

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// MessageIDSigner makes and recognizes the two threading tokens our
// outgoing mail carries: a signed Message-ID and a signed body marker.
// Both name a case reference and carry an HMAC-SHA256 tag made with a key
// derived from SECRET_KEY, so an incoming reply can be tied to its case
// even when the referenced message is gone, and nobody can make one up.
//
// The case reference is an opaque string of [A-Za-z0-9-] here (desk owns
// its format); mailbox must not import desk.
type MessageIDSigner struct {
	idKey     []byte
	markerKey []byte
	domain    string
}

// Token sizes: 80-bit random part and 80-bit tag, each 16 base32 letters.
const (
	idRandomBytes = 10
	idTagBytes    = 10
	maxRefLen     = 32
	// maxMarkersChecked bounds the HMACs one body can cost us.
	maxMarkersChecked = 50
)

// tokenEncoding is base32 without padding; we write it in lower case and
// read it case-insensitively, since some relays change the case of IDs.
var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewMessageIDSigner returns a signer for Message-IDs in domain (the
// support address's domain). secret is SECRET_KEY and must be at least 32
// bytes; each token kind gets its own key derived from it, so neither can
// pass for the other or for anything else the program signs.
func NewMessageIDSigner(secret []byte, domain string) (*MessageIDSigner, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("mailbox: message-id signer: secret is %d bytes, need at least 32", len(secret))
	}
	domain = strings.ToLower(strings.TrimSpace(domain))
	if domain == "" || strings.ContainsAny(domain, "@<> \t\r\n") {
		return nil, fmt.Errorf("mailbox: message-id signer: invalid domain %q", domain)
	}
	return &MessageIDSigner{
		idKey:     deriveKey(secret, "message-id"),
		markerKey: deriveKey(secret, "body-marker"),
		domain:    domain,
	}, nil
}

func deriveKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("recoverydesk/mailbox/" + purpose))
	return m.Sum(nil)
}

// New returns a fresh signed Message-ID for a mail of case caseRef, without
// angle brackets: "rd.<ref>.<random>.<tag>@<domain>", all in lower case.
// caseRef must match [A-Za-z0-9-]{1,32}; anything else is a programming
// error and panics, because an ID that Verify cannot read would silently
// break threading.
func (s *MessageIDSigner) New(caseRef string) string {
	ref := strings.ToLower(caseRef)
	if !validRef(ref) {
		panic(fmt.Sprintf("mailbox: message-id signer: invalid case reference %q", caseRef))
	}
	b := make([]byte, idRandomBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics instead)
	random := strings.ToLower(tokenEncoding.EncodeToString(b))
	return "rd." + ref + "." + random + "." + s.idTag(ref, random) + "@" + s.domain
}

// Verify reports whether id (with or without angle brackets) is a
// Message-ID this signer made, and for which case reference (in upper
// case). A made-up, altered or other-domain ID gives false; the tag is
// compared in constant time.
func (s *MessageIDSigner) Verify(id string) (caseRef string, ok bool) {
	id = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
	at := strings.LastIndexByte(id, '@')
	if at < 0 || !strings.EqualFold(id[at+1:], s.domain) {
		return "", false
	}
	parts := strings.Split(strings.ToLower(id[:at]), ".")
	if len(parts) != 4 || parts[0] != "rd" || !validRef(parts[1]) ||
		!validToken(parts[2]) || !validToken(parts[3]) {
		return "", false
	}
	if !hmac.Equal([]byte(parts[3]), []byte(s.idTag(parts[1], parts[2]))) {
		return "", false
	}
	return strings.ToUpper(parts[1]), true
}

// idTag signs "rd.<ref>.<random>" in its lower-case form; neither part can
// contain a dot, so the string is unambiguous.
func (s *MessageIDSigner) idTag(ref, random string) string {
	return tag(s.idKey, "rd."+ref+"."+random)
}

// Marker returns the body marker for case caseRef, like
// "[ref:RD-7K3F9Q:k3f9qa7bc2d4e5f6]". It is the same for every mail of a
// case, so a reply that quotes any of them carries it. caseRef must match
// [A-Za-z0-9-]{1,32} (see New).
func (s *MessageIDSigner) Marker(caseRef string) string {
	ref := strings.ToUpper(caseRef)
	if !validRef(strings.ToLower(ref)) {
		panic(fmt.Sprintf("mailbox: message-id signer: invalid case reference %q", caseRef))
	}
	return "[ref:" + ref + ":" + s.markerTag(ref) + "]"
}

func (s *MessageIDSigner) markerTag(upperRef string) string {
	return tag(s.markerKey, "ref:"+upperRef)
}

// markerPattern finds marker-shaped text; the tag decides whether it is ours.
var markerPattern = regexp.MustCompile(`(?i)\[ref:([a-z0-9-]{1,32}):([a-z2-7]{16})\]`)

// FindMarker returns the case reference (upper case) of the first marker in
// body whose tag verifies; forged or altered markers are skipped. In a
// reply written above the quote, the first marker is the newest one.
func (s *MessageIDSigner) FindMarker(body string) (caseRef string, ok bool) {
	for _, m := range markerPattern.FindAllStringSubmatch(body, maxMarkersChecked) {
		ref := strings.ToUpper(m[1])
		if hmac.Equal([]byte(strings.ToLower(m[2])), []byte(s.markerTag(ref))) {
			return ref, true
		}
	}
	return "", false
}

func tag(key []byte, msg string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return strings.ToLower(tokenEncoding.EncodeToString(m.Sum(nil)[:idTagBytes]))
}

func validRef(ref string) bool {
	if ref == "" || len(ref) > maxRefLen {
		return false
	}
	for _, c := range []byte(ref) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// validToken accepts 16 lower-case base32 letters (80 bits).
func validToken(t string) bool {
	if len(t) != 16 {
		return false
	}
	for _, c := range []byte(t) {
		if (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

// traceFields are header fields that servers add on the way (and IMAP or
// mbox stores add on delivery); they differ between two deliveries of the
// same message, so DerivedMessageID leaves them out.
var traceFields = map[string]bool{
	"received": true, "x-received": true, "return-path": true,
	"delivered-to": true, "x-original-to": true, "envelope-to": true,
	"authentication-results": true, "received-spf": true,
	"arc-seal": true, "arc-message-signature": true, "arc-authentication-results": true,
	"status": true, "x-status": true, "x-keywords": true, "x-uid": true,
	"content-length": true, "lines": true,
}

// derivedPrefixes are families of trace fields (spam and virus scanners).
var derivedPrefixes = []string{"x-spam-", "x-virus-"}

// DerivedMessageID returns a stable ID, "derived.<32 hex>@recoverydesk.invalid",
// for a message that has no Message-ID, so it can be deduplicated like any
// other. It hashes (SHA-256, first 128 bits) the message's header block —
// everything before the first empty line of raw — without the trace fields
// that servers add in transit or on delivery (Received, Return-Path,
// Delivered-To, Authentication-Results, ARC-*, X-Spam-*, ...), with line
// endings normalised; plus the parsed from, date and subject, so that a
// message whose raw bytes are unavailable still gets an ID. The same
// message fetched or delivered twice therefore gets the same ID, while two
// different messages differ in their Date, MIME boundary or other fields.
func DerivedMessageID(raw []byte, from string, date string, subject string) string {
	h := sha256.New()
	for _, p := range []string{"recoverydesk derived message-id v1", from, date, subject} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	h.Write(stableHeader(raw))
	return "derived." + hex.EncodeToString(h.Sum(nil)[:16]) + "@recoverydesk.invalid"
}

// stableHeader returns raw's header block, one unfolded field per line,
// without trace fields.
func stableHeader(raw []byte) []byte {
	raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	if bytes.HasPrefix(raw, []byte("\n")) {
		return nil // no header at all
	}
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		raw = raw[:i]
	}
	var fields [][]byte
	skip := false
	for _, line := range bytes.Split(raw, []byte("\n")) {
		line = bytes.TrimRight(line, " \t")
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			if !skip && len(fields) > 0 { // a folded continuation: unfold it
				last := &fields[len(fields)-1]
				*last = append(append(*last, ' '), bytes.TrimSpace(line)...)
			}
			continue
		}
		name, _, _ := bytes.Cut(line, []byte(":"))
		skip = isTraceField(strings.ToLower(string(bytes.TrimSpace(name))))
		if !skip {
			fields = append(fields, append([]byte(nil), line...))
		}
	}
	return bytes.Join(fields, []byte("\n"))
}

func isTraceField(name string) bool {
	if traceFields[name] {
		return true
	}
	for _, p := range derivedPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
