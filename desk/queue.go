package desk

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/recoverydesk/recoverydesk/ent/supportcase"
)

// Queue page sizes.
const (
	DefaultQueueLimit = 50
	MaxQueueLimit     = 200
)

// maxQueueText bounds the search and tag filters: longer ones are no
// one's typing, and a huge query only costs the database.
const maxQueueText = 200

// The queue's sort orders; each has its own index on cases, and the id
// breaks ties so that every row has a unique place.
const (
	SortDue      = "due"      // next SLA deadline first, cases without one last
	SortActivity = "activity" // most recent activity first
	SortCreated  = "created"  // newest first
	SortRisk     = "risk"     // most red flags first
)

// Assignee filters besides a staff member's id.
const (
	AssigneeMine       = "mine"
	AssigneeUnassigned = "unassigned"
)

// ErrBadCursor is returned for a page cursor the queue did not make (or
// made for another sort order).
var ErrBadCursor = errors.New("desk: this page link is damaged or out of date; start again from the first page")

// QueueQuery selects and orders the queue. Zero values mean: open cases,
// anyone's, sorted by due date, first page of DefaultQueueLimit.
type QueueQuery struct {
	// Viewer is the staff member looking, for Assignee "mine".
	Viewer int
	// Statuses restricts the statuses; empty means the open ones
	// (not resolved, denied or closed) unless AllStatuses is set.
	Statuses    []supportcase.Status
	AllStatuses bool
	// Assignee is "", AssigneeMine, AssigneeUnassigned or a user id.
	Assignee string
	// Kind, Recommendation and Tag match exactly; Search is words
	// (PostgreSQL web search syntax) or a case reference.
	Kind, Recommendation, Tag, Search string
	// Sort is one of the Sort constants; "" is SortDue.
	Sort string
	// After is the Next cursor of the previous page; "" is the first page.
	After string
	Limit int
}

// QueueRow is one case in the queue.
type QueueRow struct {
	ID                            int
	Reference, Subject            string
	RequesterName, RequesterEmail string
	// Account is the username of the account the case is about, "" when
	// not known yet; Assignee the handling staff member's, "" for none.
	Account, Assignee string
	Kind              supportcase.Kind
	Status            supportcase.Status
	Recommendation    Recommendation
	Risk              int
	Created           time.Time
	// SLADue is the next deadline; nil once settled.
	SLADue       *time.Time
	LastActivity time.Time
	Tags         []string
}

// Overdue reports whether the case's next deadline passed before now.
func (r QueueRow) Overdue(now time.Time) bool { return r.SLADue != nil && r.SLADue.Before(now) }

// QueuePage is one page of the queue; Next is the cursor of the following
// page, "" on the last one.
type QueuePage struct {
	Rows []QueueRow
	Next string
}

// StaffMember is someone who works the desk.
type StaffMember struct {
	ID       int
	Username string
	Role     string
}

// StaffMembers lists the agents and administrators by username, active
// ones only.
func (t *Triage) StaffMembers(ctx context.Context) ([]StaffMember, error) {
	rows, err := t.st.Pool.Query(ctx, `SELECT id, username, staff_role FROM users
		WHERE staff_role IN ('agent', 'admin') AND status = 'active' ORDER BY username_normalized, id`)
	if err != nil {
		return nil, fmt.Errorf("desk: staff members: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (StaffMember, error) {
		var m StaffMember
		err := r.Scan(&m.ID, &m.Username, &m.Role)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("desk: staff members: %w", err)
	}
	return out, nil
}

// Statuses are the case statuses in the order a case moves through them.
var Statuses = []supportcase.Status{
	supportcase.StatusNew, supportcase.StatusWaitingOnRequester, supportcase.StatusWaitingOnChallenge,
	supportcase.StatusReadyForDecision, supportcase.StatusResetScheduled,
	supportcase.StatusResolved, supportcase.StatusDenied, supportcase.StatusClosed,
}

// OpenStatuses are the statuses the queue shows by default.
func OpenStatuses() []supportcase.Status {
	var out []supportcase.Status
	for _, s := range Statuses {
		if !Settled(s) {
			out = append(out, s)
		}
	}
	return out
}

// Recommendations are the values the queue filters on.
var Recommendations = []Recommendation{RecommendApprove, RecommendChallenge, RecommendNeedMoreInfo, RecommendDeny, RecommendNone}

// queueSQL builds the WHERE clause and its arguments.
type queueSQL struct {
	conds []string
	args  []any
}

func (b *queueSQL) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

func (b *queueSQL) where(cond string) { b.conds = append(b.conds, cond) }

// queueCursor is the last row of a page: its sort key and id.
type queueCursor struct {
	Sort string `json:"s"`
	// Key is the sort key (unix microseconds or risk); nil for a case
	// without SLA deadline in the "due" order.
	Key *int64 `json:"k"`
	ID  int    `json:"i"`
}

func encodeCursor(c queueCursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s, sort string) (queueCursor, error) {
	var c queueCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Sort != sort || c.ID <= 0 || (c.Key == nil && sort != SortDue) {
		return queueCursor{}, ErrBadCursor
	}
	return c, nil
}

// cursorOf is the cursor after row r in order sort.
func cursorOf(r QueueRow, sort string) string {
	var k int64
	switch sort {
	case SortDue:
		if r.SLADue == nil {
			return encodeCursor(queueCursor{Sort: sort, ID: r.ID})
		}
		k = r.SLADue.UnixMicro()
	case SortActivity:
		k = r.LastActivity.UnixMicro()
	case SortCreated:
		k = r.Created.UnixMicro()
	case SortRisk:
		k = int64(r.Risk)
	}
	return encodeCursor(queueCursor{Sort: sort, Key: &k, ID: r.ID})
}

// validate checks the filter values, answering FieldErrors keyed by the
// query parameter names.
func (q *QueueQuery) validate() error {
	errs := FieldErrors{}
	for _, s := range q.Statuses {
		if supportcase.StatusValidator(s) != nil {
			errs["status"] = fmt.Sprintf("There is no status called %q.", s)
		}
	}
	switch q.Assignee {
	case "", AssigneeMine, AssigneeUnassigned:
	default:
		if id, err := strconv.Atoi(q.Assignee); err != nil || id <= 0 {
			errs["assignee"] = "Choose a staff member, yourself or unassigned."
		}
	}
	if q.Kind != "" && supportcase.KindValidator(supportcase.Kind(q.Kind)) != nil {
		errs["kind"] = fmt.Sprintf("There is no kind of case called %q.", q.Kind)
	}
	if q.Recommendation != "" {
		ok := false
		for _, r := range Recommendations {
			ok = ok || string(r) == q.Recommendation
		}
		if !ok {
			errs["recommendation"] = fmt.Sprintf("There is no recommendation called %q.", q.Recommendation)
		}
	}
	if len(q.Search) > maxQueueText {
		errs["q"] = fmt.Sprintf("Search for at most %d characters.", maxQueueText)
	}
	if len(q.Tag) > maxQueueText {
		errs["tag"] = fmt.Sprintf("A tag has at most %d characters.", maxQueueText)
	}
	switch q.Sort {
	case "":
		q.Sort = SortDue
	case SortDue, SortActivity, SortCreated, SortRisk:
	default:
		errs["sort"] = fmt.Sprintf("The queue cannot be sorted by %q.", q.Sort)
	}
	if len(errs) > 0 {
		return errs
	}
	switch {
	case q.Limit <= 0:
		q.Limit = DefaultQueueLimit
	case q.Limit > MaxQueueLimit:
		q.Limit = MaxQueueLimit
	}
	return nil
}

// Queue returns one page of the cases matching q. Invalid filters give
// FieldErrors, a damaged cursor ErrBadCursor. Pages are keyset pages (no
// OFFSET): a case keeps its place while others are added, so paging on
// shows each case once.
func (t *Triage) Queue(ctx context.Context, q QueueQuery) (QueuePage, error) {
	if err := q.validate(); err != nil {
		return QueuePage{}, err
	}
	var cur *queueCursor
	if q.After != "" {
		c, err := decodeCursor(q.After, q.Sort)
		if err != nil {
			return QueuePage{}, err
		}
		cur = &c
	}
	var b queueSQL
	b.where("c.merged_into_id IS NULL")
	statuses := q.Statuses
	if ref, ok := NormalizeReference(q.Search); ok {
		// A reference finds its case whatever its status; a merged
		// case's reference finds the case it was merged into.
		var id int
		err := t.st.Pool.QueryRow(ctx, `SELECT coalesce(merged_into_id, id) FROM cases WHERE reference = $1`, ref).Scan(&id)
		switch {
		case err == nil:
			b.where("c.id = " + b.arg(id))
			statuses, q.AllStatuses, q.Search = nil, true, ""
		case !errors.Is(err, pgx.ErrNoRows):
			return QueuePage{}, fmt.Errorf("desk: queue: reference %s: %w", ref, err)
		}
	}
	if !q.AllStatuses {
		if len(statuses) == 0 {
			statuses = OpenStatuses()
		}
		// The statuses go into the SQL as literals (validate checked
		// them against the enum): only then can PostgreSQL use the
		// partial indexes of the open cases, about a tenth of all.
		names := make([]string, len(statuses))
		for i, s := range statuses {
			names[i] = "'" + string(s) + "'"
		}
		b.where("c.status IN (" + strings.Join(names, ", ") + ")")
	}
	switch q.Assignee {
	case "":
	case AssigneeMine:
		b.where("c.assignee_id = " + b.arg(q.Viewer))
	case AssigneeUnassigned:
		b.where("c.assignee_id IS NULL")
	default:
		id, _ := strconv.Atoi(q.Assignee)
		b.where("c.assignee_id = " + b.arg(id))
	}
	if q.Kind != "" {
		b.where("c.kind = " + b.arg(q.Kind))
	}
	switch q.Recommendation {
	case "":
	case string(RecommendNone):
		b.where("(c.recommendation IS NULL OR c.recommendation = 'none')")
	default:
		b.where("c.recommendation = " + b.arg(q.Recommendation))
	}
	if q.Tag != "" {
		tag, _ := json.Marshal([]string{q.Tag})
		b.where("c.tags @> " + b.arg(string(tag)) + "::jsonb")
	}
	if strings.TrimSpace(q.Search) != "" {
		b.where("EXISTS (SELECT 1 FROM case_search s WHERE s.case_id = c.id AND s.document @@ websearch_to_tsquery('english', " + b.arg(q.Search) + "))")
	}

	// One row more than the page tells whether a next page exists.
	want := q.Limit + 1
	var rows []QueueRow
	var err error
	switch q.Sort {
	case SortDue:
		rows, err = t.queueDue(ctx, b, cur, want)
	default:
		col := map[string]string{SortActivity: "c.last_activity_at", SortCreated: "c.created_at", SortRisk: "c.risk"}[q.Sort]
		if cur != nil {
			var key any = time.UnixMicro(*cur.Key)
			if q.Sort == SortRisk {
				key = *cur.Key
			}
			b.where("(" + col + ", c.id) < (" + b.arg(key) + ", " + b.arg(cur.ID) + ")")
		}
		rows, err = t.queueRows(ctx, b, col+" DESC, c.id DESC", want)
	}
	if err != nil {
		return QueuePage{}, fmt.Errorf("desk: queue: %w", err)
	}
	page := QueuePage{Rows: rows}
	if len(rows) > q.Limit {
		page.Rows = rows[:q.Limit]
		page.Next = cursorOf(page.Rows[q.Limit-1], q.Sort)
	}
	return page, nil
}

// queueDue reads the "due" order: cases with a deadline by deadline,
// then those without by id, each an index range on (sla_due, id). The
// first page is one query, since ascending order puts the NULL deadlines
// last; later pages continue in the region of their cursor. No condition
// says "sla_due IS NOT NULL": it holds for nearly the same cases as the
// open statuses, and PostgreSQL, multiplying the two as if independent,
// would then misjudge the filtered queries and read thousands of cases.
func (t *Triage) queueDue(ctx context.Context, b queueSQL, cur *queueCursor, want int) ([]QueueRow, error) {
	if cur == nil {
		return t.queueRows(ctx, b, "c.sla_due, c.id", want)
	}
	var rows []QueueRow
	if cur.Key != nil {
		dated := b
		dated.conds = append([]string(nil), b.conds...)
		dated.args = append([]any(nil), b.args...)
		// The row comparison is false for a NULL deadline.
		dated.where("(c.sla_due, c.id) > (" + dated.arg(time.UnixMicro(*cur.Key)) + ", " + dated.arg(cur.ID) + ")")
		var err error
		if rows, err = t.queueRows(ctx, dated, "c.sla_due, c.id", want); err != nil {
			return nil, err
		}
		if len(rows) == want {
			return rows, nil
		}
	}
	b.where("c.sla_due IS NULL")
	if cur.Key == nil {
		b.where("c.id > " + b.arg(cur.ID))
	}
	undated, err := t.queueRows(ctx, b, "c.id", want-len(rows))
	return append(rows, undated...), err
}

// queueRows runs the queue query with b's conditions in order.
func (t *Triage) queueRows(ctx context.Context, b queueSQL, order string, limit int) ([]QueueRow, error) {
	sql := `SELECT c.id, c.reference, c.subject, c.requester_name, c.requester_email,
			coalesce(acct.username, ''), coalesce(asg.username, ''), c.kind, c.status,
			coalesce(c.recommendation, ''), c.risk, c.created_at, c.sla_due, c.last_activity_at, c.tags
		FROM cases c
		LEFT JOIN users acct ON acct.id = c.account_id
		LEFT JOIN users asg ON asg.id = c.assignee_id
		WHERE ` + strings.Join(b.conds, " AND ") + `
		ORDER BY ` + order + `
		LIMIT ` + strconv.Itoa(limit)
	rows, err := t.st.Pool.Query(ctx, sql, b.args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (QueueRow, error) {
		var q QueueRow
		var kind, status, rec string
		err := r.Scan(&q.ID, &q.Reference, &q.Subject, &q.RequesterName, &q.RequesterEmail,
			&q.Account, &q.Assignee, &kind, &status, &rec, &q.Risk, &q.Created, &q.SLADue, &q.LastActivity, &q.Tags)
		q.Kind, q.Status, q.Recommendation = supportcase.Kind(kind), supportcase.Status(status), Recommendation(rec)
		if rec == "" {
			q.Recommendation = RecommendNone
		}
		return q, err
	})
}
