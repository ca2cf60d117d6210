package registry

import (
	"errors"
	"fmt"
)

// RefusalKind says why an upload was refused; the web layer maps it to a
// status.
type RefusalKind int

// The kinds of refusal.
const (
	// RefusedInvalid: the request or the file breaks a rule (400).
	RefusedInvalid RefusalKind = iota
	// RefusedForbidden: the token may not upload to this project (403).
	RefusedForbidden
	// RefusedExists: the file name was uploaded before (400, the answer
	// the big index gives, which twine's --skip-existing recognises).
	RefusedExists
	// RefusedTooLarge: the file is over the size limit (413).
	RefusedTooLarge
)

// Refusal is an upload the rules refuse. Message is written for the
// uploader: twine prints it.
type Refusal struct {
	Kind    RefusalKind
	Message string
}

func (r *Refusal) Error() string { return "registry: upload refused: " + r.Message }

// AsRefusal returns the refusal in err's chain, if any.
func AsRefusal(err error) (*Refusal, bool) {
	var r *Refusal
	ok := errors.As(err, &r)
	return r, ok
}

func invalid(msg string) error { return &Refusal{Kind: RefusedInvalid, Message: msg} }

func forbidden(msg string) error { return &Refusal{Kind: RefusedForbidden, Message: msg} }

func fileExists(filename string) error {
	return &Refusal{Kind: RefusedExists, Message: fmt.Sprintf(
		"File already exists: %s was uploaded before, and a file name can be used only once. "+
			"Upload a new version instead.", filename)}
}

func tooLarge(limit int64) error {
	return &Refusal{Kind: RefusedTooLarge, Message: fmt.Sprintf(
		"File too large: the limit for one file is %s.", FormatSize(limit))}
}

// FormatSize writes a byte count the way people read limits: in binary
// units when it divides evenly, in bytes otherwise.
func FormatSize(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	if n >= 1<<20 {
		return fmt.Sprintf("%d bytes (%.1f MiB)", n, float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}
