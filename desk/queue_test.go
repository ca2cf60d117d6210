package desk_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/message"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/ent/user"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/internal/testdb"
)

// queueTriage is a Triage on st for reading the queue (it sends no mail).
func queueTriage(st *store.Store) *desk.Triage {
	base, _ := url.Parse(testBase)
	return desk.NewTriage(st, nil, nil, nil, "Recovery Desk Test", base, desk.TriageOptions{})
}

// qc describes a case for queueCase; zero values are defaults.
type qc struct {
	status         supportcase.Status
	kind           supportcase.Kind
	tags           []string
	assignee       *int
	account        *int
	recommendation string
	risk           int
	created        time.Time
	activity       time.Time
	due            *time.Time
	subject, body  string
	mergedInto     *int
}

// queueCase inserts a case directly with the given fields and returns its
// id and reference; a body becomes an inbound message of the case.
func queueCase(t testing.TB, st *store.Store, o qc) (int, string) {
	t.Helper()
	ctx := context.Background()
	ref, err := desk.NewReference()
	if err != nil {
		t.Fatal(err)
	}
	name := unique("req")
	hash := sha256.Sum256([]byte(name))
	now := time.Now()
	if o.created.IsZero() {
		o.created = now
	}
	if o.activity.IsZero() {
		o.activity = o.created
	}
	if o.status == "" {
		o.status = supportcase.StatusNew
	}
	if o.kind == "" {
		o.kind = supportcase.KindRecovery
	}
	if o.tags == nil {
		o.tags = []string{}
	}
	create := st.Ent.SupportCase.Create().SetReference(ref).SetKind(o.kind).SetStatus(o.status).
		SetSubject(o.subject).SetRequesterName("Requester " + name).
		SetRequesterEmail(name + "@example.net").SetRequesterEmailNormalized(name + "@example.net").
		SetStatusTokenHash(hash[:]).SetTags(o.tags).SetRisk(o.risk).
		SetCreatedAt(o.created).SetUpdatedAt(o.created).SetLastActivityAt(o.activity).
		SetNillableAssigneeID(o.assignee).SetNillableAccountID(o.account).SetNillableSLADue(o.due).
		SetNillableMergedIntoID(o.mergedInto)
	if o.recommendation != "" {
		create.SetRecommendation(o.recommendation)
	}
	c, err := create.Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if o.body != "" {
		if err := st.Ent.Message.Create().SetCaseID(c.ID).SetMessageIDHeader("<" + name + "@example.net>").
			SetDirection(message.DirectionInbound).SetVisibility(message.VisibilityPublic).SetChannel(message.ChannelEmail).
			SetFromAddress(name + "@example.net").SetSubject("Re: " + o.subject).SetBodyText(o.body).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return c.ID, ref
}

// queueStaff creates a user with the staff role.
func queueStaff(t testing.TB, st *store.Store, role user.StaffRole) (int, string) {
	t.Helper()
	name := unique("staff")
	u, err := st.Ent.User.Create().SetUsername(name).SetUsernameNormalized(name).SetStaffRole(role).Save(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return u.ID, name
}

// refsOf lists the references of a page's rows in order.
func refsOf(p desk.QueuePage) []string {
	out := make([]string, len(p.Rows))
	for i, r := range p.Rows {
		out[i] = r.Reference
	}
	return out
}

func mustQueue(t *testing.T, tr *desk.Triage, q desk.QueueQuery) desk.QueuePage {
	t.Helper()
	p, err := tr.Queue(context.Background(), q)
	if err != nil {
		t.Fatalf("queue %+v: %v", q, err)
	}
	return p
}

func TestQueueFilters(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	tr := queueTriage(st)
	me, meName := queueStaff(t, st, user.StaffRoleAgent)
	other, _ := queueStaff(t, st, user.StaffRoleAdmin)
	acct, acctName := queueStaff(t, st, user.StaffRoleNone)
	tag, tag2 := unique("tag"), unique("tag")
	now := time.Now()
	idA, a := queueCase(t, st, qc{tags: []string{tag}, assignee: &me, account: &acct, recommendation: "approve", created: now.Add(-4 * time.Hour)})
	_, b := queueCase(t, st, qc{tags: []string{tag, tag2}, status: supportcase.StatusWaitingOnRequester, kind: supportcase.KindGeneral, created: now.Add(-3 * time.Hour)})
	_, c := queueCase(t, st, qc{tags: []string{tag}, status: supportcase.StatusResolved, assignee: &other, recommendation: "deny", created: now.Add(-2 * time.Hour)})
	queueCase(t, st, qc{tags: []string{tag}, mergedInto: &idA, created: now.Add(-time.Hour)})

	for _, tc := range []struct {
		name string
		q    desk.QueueQuery
		want []string
	}{
		{"open by default, merged left out", desk.QueueQuery{}, []string{a, b}},
		{"all statuses", desk.QueueQuery{AllStatuses: true}, []string{a, b, c}},
		{"one status", desk.QueueQuery{Statuses: []supportcase.Status{supportcase.StatusResolved}}, []string{c}},
		{"two statuses", desk.QueueQuery{Statuses: []supportcase.Status{supportcase.StatusResolved, supportcase.StatusNew}}, []string{a, c}},
		{"mine", desk.QueueQuery{Assignee: desk.AssigneeMine}, []string{a}},
		{"unassigned", desk.QueueQuery{Assignee: desk.AssigneeUnassigned}, []string{b}},
		{"by id", desk.QueueQuery{Assignee: fmt.Sprint(other), AllStatuses: true}, []string{c}},
		{"kind", desk.QueueQuery{Kind: "general"}, []string{b}},
		{"recommendation", desk.QueueQuery{Recommendation: "deny", AllStatuses: true}, []string{c}},
		{"no recommendation", desk.QueueQuery{Recommendation: "none"}, []string{b}},
		{"second tag", desk.QueueQuery{Tag: tag2}, []string{b}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Viewer = me
			if q.Tag == "" {
				q.Tag = tag
			}
			q.Sort = desk.SortCreated
			got := refsOf(mustQueue(t, tr, q))
			slices.Reverse(got) // newest first; the table lists oldest first
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	row := mustQueue(t, tr, desk.QueueQuery{Tag: tag, Assignee: desk.AssigneeMine, Viewer: me}).Rows[0]
	if row.Assignee != meName || row.Account != acctName || row.Recommendation != desk.RecommendApprove || row.Kind != supportcase.KindRecovery {
		t.Errorf("row %+v: want assignee %s, account %s, approve", row, meName, acctName)
	}
	if r := mustQueue(t, tr, desk.QueueQuery{Tag: tag, Kind: "general"}).Rows[0]; r.Recommendation != desk.RecommendNone || r.Assignee != "" || r.Account != "" {
		t.Errorf("row without recommendation, assignee or account: %+v", r)
	}

	_, err := tr.Queue(context.Background(), desk.QueueQuery{
		Statuses: []supportcase.Status{"open"}, Assignee: "nobody", Kind: "other", Recommendation: "maybe", Sort: "name",
		Search: strings.Repeat("word ", 41), Tag: strings.Repeat("t", 201),
	})
	var fields desk.FieldErrors
	if !errors.As(err, &fields) {
		t.Fatalf("invalid filters: %v, want FieldErrors", err)
	}
	for _, k := range []string{"status", "assignee", "kind", "recommendation", "sort", "q", "tag"} {
		if fields[k] == "" {
			t.Errorf("no error for %s: %v", k, fields)
		}
	}
}

func TestQueueSorts(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	tr := queueTriage(st)
	tag := unique("tag")
	base := time.Date(2031, 5, 1, 12, 0, 0, 0, time.UTC)
	at := func(h int) *time.Time { v := base.Add(time.Duration(h) * time.Hour); return &v }
	_, a := queueCase(t, st, qc{tags: []string{tag}, due: at(3), created: *at(-10), activity: *at(-1), risk: 1})
	_, b := queueCase(t, st, qc{tags: []string{tag}, due: nil, created: *at(-8), activity: *at(-5), risk: 3})
	_, c := queueCase(t, st, qc{tags: []string{tag}, due: at(1), created: *at(-6), activity: *at(-3), risk: 0})
	_, d := queueCase(t, st, qc{tags: []string{tag}, due: at(2), created: *at(-9), activity: *at(-2), risk: 3})
	_, e := queueCase(t, st, qc{tags: []string{tag}, due: nil, created: *at(-7), activity: *at(-4), risk: 2})

	for sort, want := range map[string][]string{
		"":                {c, d, a, b, e},
		desk.SortDue:      {c, d, a, b, e},
		desk.SortActivity: {a, d, c, e, b},
		desk.SortCreated:  {c, e, b, d, a},
		desk.SortRisk:     {d, b, e, a, c},
	} {
		for _, limit := range []int{0, 2} {
			var got []string
			q := desk.QueueQuery{Tag: tag, Sort: sort, Limit: limit}
			for pages := 0; pages < 10; pages++ {
				p := mustQueue(t, tr, q)
				got = append(got, refsOf(p)...)
				if p.Next == "" {
					break
				}
				q.After = p.Next
			}
			if !slices.Equal(got, want) {
				t.Errorf("sort %q, limit %d: %v, want %v", sort, limit, got, want)
			}
		}
	}
}

func TestQueueSearch(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	tr := queueTriage(st)
	tag := unique("tag")
	idA, a := queueCase(t, st, qc{tags: []string{tag}, subject: "Cannot sign in", body: "My account got locked after I lost my phone."})
	_, b := queueCase(t, st, qc{tags: []string{tag}, subject: "Billing question", body: "Where is my invoice?"})
	_, closed := queueCase(t, st, qc{tags: []string{tag}, status: supportcase.StatusClosed, subject: "Old"})
	_, merged := queueCase(t, st, qc{tags: []string{tag}, mergedInto: &idA, subject: "Duplicate"})

	for q, want := range map[string][]string{
		"locking":           {a},      // stemmed, and only in a message body
		"invoice":           {b},      // body
		"billing -invoice":  nil,      // web search syntax
		"phone OR invoices": {a, b},   // either
		closed:              {closed}, // a reference finds its case whatever its status
		" rd " + closed[3:]: {closed}, // as typed
		merged:              {a},      // a merged case's reference finds the survivor
	} {
		got := refsOf(mustQueue(t, tr, desk.QueueQuery{Tag: tag, Search: q, Sort: desk.SortCreated}))
		slices.Sort(got)
		w := slices.Clone(want)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("search %q: %v, want %v", q, got, w)
		}
	}
	// A reference-shaped word that is no case's reference is searched
	// as words.
	if got := refsOf(mustQueue(t, tr, desk.QueueQuery{Tag: tag, Search: "RD-222222"})); len(got) != 0 {
		t.Errorf("unknown reference found %v", got)
	}
}

// TestQueueKeysetWhileAdding pages through each order with small pages
// while new cases arrive between pages, some sorting before the cursor
// and some after: every case that existed at the start appears exactly
// once and no case appears twice.
func TestQueueKeysetWhileAdding(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	tr := queueTriage(st)
	for _, sort := range []string{desk.SortDue, desk.SortActivity, desk.SortCreated, desk.SortRisk} {
		t.Run(sort, func(t *testing.T) {
			t.Parallel()
			tag := unique("tag")
			base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
			// Cases at hours 100..130; some without deadline; risks
			// repeat so that the id breaks ties.
			spread := func(i int) qc {
				at := base.Add(time.Duration(100+i) * time.Hour)
				o := qc{tags: []string{tag}, created: at, activity: at, risk: i % 3}
				if i%4 != 0 {
					o.due = &at
				}
				return o
			}
			initial := map[string]bool{}
			for i := 0; i < 31; i++ {
				_, ref := queueCase(t, st, spread(i))
				initial[ref] = true
			}
			seen := map[string]int{}
			q := desk.QueueQuery{Tag: tag, Sort: sort, Limit: 4}
			for page := 0; ; page++ {
				if page > 50 {
					t.Fatal("paging does not end")
				}
				p := mustQueue(t, tr, q)
				for _, ref := range refsOf(p) {
					seen[ref]++
				}
				if p.Next == "" {
					break
				}
				q.After = p.Next
				// One new case at each end of every order, and one in
				// the middle, between page fetches.
				early := qc{tags: []string{tag}, created: base, activity: base, due: &base, risk: 9}
				late := base.Add(1000 * time.Hour)
				queueCase(t, st, early)
				queueCase(t, st, qc{tags: []string{tag}, created: late, activity: late, due: &late, risk: -1})
				queueCase(t, st, spread(page%31))
			}
			for ref := range initial {
				if seen[ref] != 1 {
					t.Errorf("case %s seen %d times", ref, seen[ref])
				}
			}
			for ref, n := range seen {
				if n != 1 {
					t.Errorf("case %s (new) seen %d times", ref, n)
				}
			}
		})
	}
}

func TestQueueBadCursor(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	tr := queueTriage(st)
	tag := unique("tag")
	for i := 0; i < 3; i++ {
		queueCase(t, st, qc{tags: []string{tag}})
	}
	p := mustQueue(t, tr, desk.QueueQuery{Tag: tag, Limit: 1, Sort: desk.SortActivity})
	if p.Next == "" {
		t.Fatal("no next page")
	}
	for _, q := range []desk.QueueQuery{
		{Tag: tag, After: "not a cursor!"},
		{Tag: tag, After: "e30"}, // {}
		{Tag: tag, After: p.Next, Sort: desk.SortRisk},
	} {
		if _, err := tr.Queue(context.Background(), q); !errors.Is(err, desk.ErrBadCursor) {
			t.Errorf("cursor %q sort %q: %v, want ErrBadCursor", q.After, q.Sort, err)
		}
	}
	if got := mustQueue(t, tr, desk.QueueQuery{Tag: tag, Limit: 1, Sort: desk.SortActivity, After: p.Next}); len(got.Rows) != 1 {
		t.Errorf("second page has %d rows", len(got.Rows))
	}
}

func TestStaffMembers(t *testing.T) {
	t.Parallel()
	st := testdb.Store(t)
	tr := queueTriage(st)
	agent, agentName := queueStaff(t, st, user.StaffRoleAgent)
	admin, _ := queueStaff(t, st, user.StaffRoleAdmin)
	member, _ := queueStaff(t, st, user.StaffRoleNone)
	got, err := tr.StaffMembers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	roles := map[int]desk.StaffMember{}
	for _, m := range got {
		roles[m.ID] = m
	}
	if m := roles[agent]; m.Username != agentName || m.Role != "agent" {
		t.Errorf("agent listed as %+v", m)
	}
	if roles[admin].Role != "admin" {
		t.Errorf("admin listed as %+v", roles[admin])
	}
	if _, ok := roles[member]; ok {
		t.Error("a member who is not staff is listed")
	}
}

func BenchmarkQueue(b *testing.B) {
	st := testdb.Store(b)
	tr := queueTriage(st)
	tag := unique("tag")
	base := time.Now().Add(-1000 * time.Hour)
	for i := 0; i < 300; i++ {
		at := base.Add(time.Duration(i) * time.Hour)
		queueCase(b, st, qc{tags: []string{tag}, created: at, due: &at, body: fmt.Sprintf("message number %d about a locked account", i)})
	}
	ctx := context.Background()
	for _, q := range []desk.QueueQuery{{}, {Tag: tag, Sort: desk.SortActivity}, {Search: "locked account"}} {
		b.Run(fmt.Sprintf("sort=%s/tag=%t/q=%s", q.Sort, q.Tag != "", q.Search), func(b *testing.B) {
			for b.Loop() {
				p, err := tr.Queue(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				if p.Next != "" {
					if _, err := tr.Queue(ctx, desk.QueueQuery{Tag: q.Tag, Sort: q.Sort, Search: q.Search, After: p.Next}); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// The open-case indexes (ent/schema/support_case.go) name exactly the
// open statuses; were a status added without them, the default queue
// would silently stop using them.
func TestOpenCaseIndexesMatchOpenStatuses(t *testing.T) {
	st := testdb.Store(t)
	rows, err := st.Pool.Query(context.Background(), `SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE 'supportcase_open_%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var want []string
	for _, s := range desk.OpenStatuses() {
		want = append(want, string(s))
	}
	slices.Sort(want)
	quoted := regexp.MustCompile(`'([a-z_]+)'`)
	n := 0
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			t.Fatal(err)
		}
		n++
		var got []string
		for _, m := range quoted.FindAllStringSubmatch(def, -1) {
			got = append(got, m[1])
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s covers statuses %v, want desk.OpenStatuses %v", name, got, want)
		}
	}
	if n != 5 {
		t.Errorf("%d open-case indexes, want 5", n)
	}
}
