package web_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// queuedCase inserts a case with tag, status and assignee (nil for
// none), opened at created, and returns its reference.
func queuedCase(t *testing.T, tag string, status supportcase.Status, assignee *int, created time.Time, subject string) string {
	t.Helper()
	ref, err := desk.NewReference()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("queued%d@example.net", userSeq.Add(1))
	hash := sha256.Sum256([]byte(addr + ref))
	due := created.Add(4 * time.Hour)
	err = testdb.Store(t).Ent.SupportCase.Create().SetReference(ref).SetStatus(status).SetSubject(subject).
		SetRequesterEmail(addr).SetRequesterEmailNormalized(addr).SetStatusTokenHash(hash[:]).
		SetTags([]string{tag}).SetNillableAssigneeID(assignee).SetSLADue(due).
		SetCreatedAt(created).SetUpdatedAt(created).SetLastActivityAt(created).Exec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// queueRefs are the references the queue page lists, in order, and the
// page's document.
func queueRefs(t *testing.T, c *client, path string, status int) ([]string, doc) {
	t.Helper()
	r := c.get(path)
	wantStatus(t, r, status)
	d := parse(t, r.body)
	var refs []string
	for _, row := range rowsOf(d, "desk-case-line") {
		refs = append(refs, text(all(row, isTag("a"))[0]))
	}
	return refs, d
}

func TestDeskQueueFilters(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	me := newStaff(t, b, user.StaffRoleAgent)
	other := newStaff(t, b, user.StaffRoleAdmin)
	tag := fmt.Sprintf("qtag%d", userSeq.Add(1))
	now := time.Now()
	word := fmt.Sprintf("zebra%d", userSeq.Add(1))
	mine := queuedCase(t, tag, supportcase.StatusNew, &me.ID, now.Add(-3*time.Hour), "Mine "+word)
	free := queuedCase(t, tag, supportcase.StatusWaitingOnRequester, nil, now.Add(-2*time.Hour), "Nobody's")
	theirs := queuedCase(t, tag, supportcase.StatusReadyForDecision, &other.ID, now.Add(-time.Hour), "Theirs")
	done := queuedCase(t, tag, supportcase.StatusResolved, nil, now.Add(-30*time.Minute), "Done")

	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{mine, free, theirs}}, // open ones by default, soonest due first
		{"assignee=mine", []string{mine}},
		{"assignee=unassigned", []string{free}},
		{"assignee=" + fmt.Sprint(other.ID), []string{theirs}},
		{"status=resolved", []string{done}},
		{"status=resolved&status=new", []string{mine, done}},
		{"status=all&sort=created", []string{done, theirs, free, mine}},
		{"q=" + word, []string{mine}},
		{"q=" + url.QueryEscape(strings.ToLower(done)), []string{done}},
	} {
		got, _ := queueRefs(t, me.c, "/desk?tag="+tag+"&"+tc.query, http.StatusOK)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
		}
	}

	// The row says who, what and when, the deadline in words.
	_, d := queueRefs(t, me.c, "/desk?assignee=mine&tag="+tag, http.StatusOK)
	row := text(rowsOf(d, "desk-case-line")[0])
	for _, want := range []string{mine, me.Username, "Recovery", "New", "Gathering evidence", "In 1 h", tag} {
		if !strings.Contains(row, want) {
			t.Errorf("row %q lacks %q", row, want)
		}
	}
	overdue := queuedCase(t, tag, supportcase.StatusNew, nil, now.Add(-6*time.Hour), "Late")
	_, d = queueRefs(t, me.c, "/desk?q="+overdue, http.StatusOK)
	if got := text(d.testID("queue-due")); !strings.Contains(got, "Overdue by 2 h") {
		t.Errorf("overdue case's deadline reads %q", got)
	}

	// The form keeps the choices.
	_, d = queueRefs(t, me.c, "/desk?tag="+tag+"&assignee=unassigned&status=new", http.StatusOK)
	form := d.testID("queue-filters")
	if got := formValue(t, form, "tag"); got != tag {
		t.Errorf("tag field %q", got)
	}
	checked := map[string]bool{}
	for _, in := range all(form, hasAttr("name", "status")) {
		if _, ok := attr(in, "checked"); ok {
			checked[mustAttr(t, in, "value")] = true
		}
	}
	if !checked["new"] || len(checked) != 1 {
		t.Errorf("ticked statuses %v, want new", checked)
	}

	// Refused values are shown next to their field, not a server error.
	for param, query := range map[string]string{
		"kind": "kind=parcel", "recommendation": "recommendation=maybe", "status": "status=lost",
		"sort": "sort=name", "assignee": "assignee=999999999", "q": "q=" + strings.Repeat("a", 201),
	} {
		_, d := queueRefs(t, me.c, "/desk?"+query, http.StatusUnprocessableEntity)
		if !d.hasTestID("error-" + param) {
			t.Errorf("%s: no error next to the field", query)
		}
	}

	// Nothing found is said in words.
	_, d = queueRefs(t, me.c, "/desk?tag=no-such-tag-"+tag, http.StatusOK)
	if !d.hasTestID("queue-empty") {
		t.Error("no empty-state message")
	}
	if r := me.c.get("/desk"); !strings.Contains(r.body, `href="/desk/stats"`) {
		t.Error("no link to the dashboard")
	}
}

func TestDeskQueuePages(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noDevMail: true})
	staff := newStaff(t, b, user.StaffRoleAgent)
	tag := fmt.Sprintf("qpage%d", userSeq.Add(1))
	ctx := context.Background()
	db := testdb.Store(t).Ent
	base := time.Now().Add(-100 * time.Hour)
	creates := make([]*ent.SupportCaseCreate, desk.DefaultQueueLimit+3)
	var newest []string
	for i := range creates {
		ref, err := desk.NewReference()
		if err != nil {
			t.Fatal(err)
		}
		newest = append(newest, ref)
		at := base.Add(time.Duration(i) * time.Minute)
		hash := sha256.Sum256([]byte(tag + ref))
		creates[i] = db.SupportCase.Create().SetReference(ref).SetRequesterEmail("p@example.net").SetRequesterEmailNormalized("p@example.net").
			SetStatusTokenHash(hash[:]).SetTags([]string{tag}).SetCreatedAt(at).SetUpdatedAt(at).SetLastActivityAt(at)
	}
	if err := db.SupportCase.CreateBulk(creates...).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(newest) // newest first

	first, d := queueRefs(t, staff.c, "/desk?sort=created&tag="+tag, http.StatusOK)
	if !slices.Equal(first, newest[:desk.DefaultQueueLimit]) {
		t.Fatalf("first page: %d cases, want the %d newest", len(first), desk.DefaultQueueLimit)
	}
	if d.hasTestID("queue-first") {
		t.Error("the first page links to itself")
	}
	next := html.UnescapeString(mustAttr(t, d.testID("queue-next"), "href"))
	u, err := url.Parse(next)
	if err != nil || u.Path != "/desk" || u.Query().Get("tag") != tag || u.Query().Get("sort") != "created" || u.Query().Get("after") == "" {
		t.Fatalf("next page link %q lacks the filters or the cursor", next)
	}
	second, d := queueRefs(t, staff.c, next, http.StatusOK)
	if !slices.Equal(second, newest[desk.DefaultQueueLimit:]) {
		t.Errorf("second page %v, want %v", second, newest[desk.DefaultQueueLimit:])
	}
	if d.hasTestID("queue-next") {
		t.Error("the last page has a next link")
	}
	back := html.UnescapeString(mustAttr(t, d.testID("queue-first"), "href"))
	if again, _ := queueRefs(t, staff.c, back, http.StatusOK); !slices.Equal(again, first) {
		t.Errorf("first page link %q shows %d other cases", back, len(again))
	}

	// A damaged page link is refused with a way back.
	_, d = queueRefs(t, staff.c, "/desk?sort=created&tag="+tag+"&after=bm90IGEgY3Vyc29y", http.StatusBadRequest)
	if got := text(d.testID("queue-problem")); !strings.Contains(got, "damaged") {
		t.Errorf("bad cursor message %q", got)
	}
	if href := html.UnescapeString(mustAttr(t, d.testID("queue-first"), "href")); href != back {
		t.Errorf("first page link %q, want %q", href, back)
	}
}
