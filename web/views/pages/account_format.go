package pages

import (
	"fmt"
	"time"
)

// Formatting shared by the account and projects pages. Times are shown in
// UTC with the zone named, since the server cannot know the reader's.

// accountTimeText is a time for people: "2 Jan 2006, 15:04 UTC".
func accountTimeText(t time.Time) string {
	return t.UTC().Format("2 Jan 2006, 15:04 UTC")
}

// accountTimeISO is the machine-readable form for <time datetime>.
func accountTimeISO(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// fileSize is a byte count for people: "18.4 kB", "1.2 MB" (SI units, as
// package indexes show them).
func fileSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 3; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGT"[exp])
}
