package types

import "time"

// Finding is what an ownership-evidence job found, stored with its
// evidence item. Summary is written for staff; the other fields are what
// the assessment reads.
type Finding struct {
	// Summary is one sentence for the case page, with dates, e.g.
	// "Controls erin@example.org, a verified address of the account".
	Summary string `json:"summary"`
	// Match is set for comparisons of a claim with the record: true when
	// they agree.
	Match *bool `json:"match,omitempty"`
	// At is when the fact itself happened (an email change, an upload),
	// as opposed to when the job recorded it.
	At *time.Time `json:"at,omitempty"`
	// Discounted, when not empty, says why a proof of control does not
	// count (e.g. the address was added to the account two days ago).
	Discounted string `json:"discounted,omitempty"`
	// Details are the structured facts behind Summary.
	Details map[string]any `json:"details,omitempty"`
}
