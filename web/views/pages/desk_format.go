package pages

import (
	"strconv"
	"strings"
	"time"
)

// DeskWords turns a stored value ("waiting_on_requester") into words for
// staff ("Waiting on requester").
func DeskWords(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// plural picks the word for n things.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// DeskSLALine is one SLA clock of a case in words.
type DeskSLALine struct {
	// Text is e.g. "Due 3 Nov 2026, 10:00 UTC (in 5 hours)", "Met: 2 Nov
	// 2026, 09:12 UTC (due …)" or "Overdue by 2 hours (due …)".
	Text    string
	Overdue bool
}

// SLAWords describes one SLA deadline at now: due (nil when none), done
// (when it was met, nil while open), and whether the clock is stopped
// (the case is settled or waits for a scheduled reset).
func SLAWords(due, done *time.Time, stopped bool, now time.Time) DeskSLALine {
	switch {
	case due == nil:
		return DeskSLALine{Text: "No deadline"}
	case done != nil:
		w := "Met"
		if done.After(*due) {
			w = "Met late"
		}
		return DeskSLALine{Text: w + ": " + accountTimeText(*done) + " (due " + accountTimeText(*due) + ")"}
	case stopped:
		return DeskSLALine{Text: "Clock stopped (was due " + accountTimeText(*due) + ")"}
	case now.After(*due):
		return DeskSLALine{Text: "Overdue by " + spanWords(now.Sub(*due)) + " (due " + accountTimeText(*due) + ")", Overdue: true}
	}
	return DeskSLALine{Text: "Due " + accountTimeText(*due) + " (in " + spanWords(due.Sub(now)) + ")"}
}

// spanWords says a duration roughly: "40 minutes", "5 hours", "3 days".
func spanWords(d time.Duration) string {
	switch {
	case d < time.Hour:
		m := max(int(d.Minutes()), 1)
		return strconv.Itoa(m) + " " + plural(m, "minute", "minutes")
	case d < 48*time.Hour:
		h := int(d.Hours())
		return strconv.Itoa(h) + " " + plural(h, "hour", "hours")
	}
	days := int(d.Hours() / 24)
	return strconv.Itoa(days) + " " + plural(days, "day", "days")
}

// presenceWords is the banner's sentence: "sam is also viewing this
// case", "sam and kim are also viewing this case".
func presenceWords(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0] + " is also viewing this case"
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " are also viewing this case"
}
