package desk

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// referenceAlphabet leaves out look-alikes (0/O, 1/I/L) so a reference
// read over the phone or copied by hand survives.
const referenceAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// ReferenceLen is the number of characters after "RD-": 31^6 ≈ 887 million
// references, so a random one rarely collides and a collision (a unique
// violation) is simply retried.
const ReferenceLen = 6

// NewReference returns a random public case reference like "RD-7K3F9Q".
func NewReference() (string, error) {
	buf := make([]byte, ReferenceLen)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("desk: case reference: %w", err)
	}
	var b strings.Builder
	b.WriteString("RD-")
	for _, c := range buf {
		b.WriteByte(referenceAlphabet[int(c)%len(referenceAlphabet)])
	}
	return b.String(), nil
}

// NormalizeReference accepts what a person types ("rd 7k3f9q",
// "RD-7K3F9Q") and returns the canonical form, or false.
func NormalizeReference(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	s = strings.TrimPrefix(strings.TrimPrefix(s, "RD"), "-")
	s = strings.TrimSpace(s)
	if len(s) != ReferenceLen {
		return "", false
	}
	for _, r := range s {
		if !strings.ContainsRune(referenceAlphabet, r) {
			return "", false
		}
	}
	return "RD-" + s, true
}
