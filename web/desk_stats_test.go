package web_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/ent/user"
)

// durationWordsRE is how the dashboard writes a duration.
var durationWordsRE = regexp.MustCompile(`^(No cases yet|less than a minute|\d+ (min|h|d)( \d+ (min|h))?)$`)

func TestDeskStatsPage(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	staff := newStaff(t, b, user.StaffRoleAgent)
	// An open case past its deadline, so that there is something to
	// draw whatever else the package's tests left.
	queuedCase(t, "stats", supportcase.StatusNew, nil, time.Now().Add(-5*time.Hour), "Stats")

	r := staff.c.get("/desk/stats")
	wantStatus(t, r, http.StatusOK)
	d := parse(t, r.body)
	wantLayout(t, d)
	for _, id := range []string{"chart-open", "chart-days"} {
		svg := d.testID(id)
		if svg == nil {
			t.Fatalf("no chart %s", id)
		}
		if role := mustAttr(t, svg, "role"); role != "img" {
			t.Errorf("%s role %q", id, role)
		}
		label := mustAttr(t, svg, "aria-label")
		if titles := all(svg, isTag("title")); len(titles) != 1 || text(titles[0]) != label {
			t.Errorf("%s: title does not match the label %q", id, label)
		}
	}
	// The open table's numbers add up to the total said in words, and
	// the new case counts.
	total := 0
	for _, row := range all(d.testID("stats-open"), isTag("td")) {
		total += mustAtoi(t, text(row))
	}
	if total < 1 || !strings.HasPrefix(text(d.testID("stats-open-total")), strconv.Itoa(total)+" open") {
		t.Errorf("open table sums to %d; summary says %q", total, text(d.testID("stats-open-total")))
	}
	for _, id := range []string{"stats-first-response", "stats-resolution"} {
		for _, cell := range all(d.testID(id), isTag("td"))[1:] {
			if got := text(cell); !durationWordsRE.MatchString(got) {
				t.Errorf("%s: %q is not a duration in words", id, got)
			}
		}
	}
	if n := len(rowsOf(d, "stats-day")); n != 7 {
		t.Errorf("default period has %d days, want 7", n)
	}
	today := rowsOf(d, "stats-day")[6]
	if got := text(today); !strings.Contains(got, time.Now().UTC().Format("Mon 2 Jan")) {
		t.Errorf("last day row %q is not today", got)
	}

	for days, n := range map[string]int{"30": 30, "90": 90} {
		r := staff.c.get("/desk/stats?days=" + days)
		wantStatus(t, r, http.StatusOK)
		if got := len(rowsOf(parse(t, r.body), "stats-day")); got != n {
			t.Errorf("days=%s: %d rows", days, got)
		}
	}
	r = staff.c.get("/desk/stats?days=5")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if d := parse(t, r.body); !d.hasTestID("error-days") || d.hasTestID("chart-open") {
		t.Error("a refused period is not said next to the field")
	}

	member := newStaff(t, b, user.StaffRoleNone)
	wantStatus(t, member.c.get("/desk/stats"), http.StatusForbidden)
}
