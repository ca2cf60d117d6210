package seed

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
)

// bulkGen derives every bulk row from (seed, table, index) alone, so a
// row can be rebuilt wherever another table needs it (a case's requester
// is an account's name and email) without holding the tables in memory.
type bulkGen struct {
	o    BulkOptions
	hash string
	// First id minus one of each table, past what the database holds.
	userBase, projectBase, releaseBase, caseBase int64
	nReleases                                    int
	refs                                         []string
	msgCount                                     []int32
	pcg                                          *rand.PCG
	r                                            *rand.Rand
}

// Streams of the per-row random generator, one per kind of row.
const (
	streamUser uint64 = iota + 1
	streamProject
	streamRelease
	streamFile
	streamCase
	streamMessage
	streamCounts
)

func newBulkGen(ctx context.Context, tx pgx.Tx, o BulkOptions, hash string) (*bulkGen, error) {
	g := &bulkGen{o: o, hash: hash, pcg: rand.NewPCG(0, 0)}
	g.r = rand.New(g.pcg)
	for _, b := range []struct {
		table string
		dst   *int64
	}{{"users", &g.userBase}, {"projects", &g.projectBase}, {"releases", &g.releaseBase}, {"cases", &g.caseBase}} {
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM `+b.table).Scan(b.dst); err != nil {
			return nil, fmt.Errorf("seed: bulk: max id of %s: %w", b.table, err)
		}
	}
	if o.Uploads > 0 {
		g.nReleases = max(1, o.Uploads/2)
	}
	taken := map[string]bool{}
	rows, err := tx.Query(ctx, `SELECT reference FROM cases`)
	if err != nil {
		return nil, fmt.Errorf("seed: bulk: references: %w", err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		taken[s] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("seed: bulk: references: %w", err)
	}
	g.refs = make([]string, o.Cases)
	spare := o.Cases
	for c := range g.refs {
		ref := bulkReference(o.Seed, c)
		for taken[ref] {
			ref = bulkReference(o.Seed, spare)
			spare++
		}
		g.refs[c] = ref
	}
	// Every case gets its opening message; the rest go mostly to older
	// cases (long threads take time), a few cases get many.
	g.msgCount = make([]int32, o.Cases)
	g.rand(streamCounts, 0)
	for i := range min(o.Messages, o.Cases) {
		g.msgCount[i] = 1
	}
	for range max(0, o.Messages-o.Cases) {
		u := g.r.Float64()
		g.msgCount[int(math.Sqrt(u)*float64(o.Cases))%o.Cases]++
	}
	return g, nil
}

// rand reseeds the shared generator for row i of a stream.
func (g *bulkGen) rand(stream uint64, i int) *rand.Rand {
	g.pcg.Seed(g.o.Seed*0x9E3779B97F4A7C15+stream, uint64(i))
	return g.r
}

const referenceSpace = 31 * 31 * 31 * 31 * 31 * 31

// bulkReference is an RD- reference that is a permutation of i: distinct
// indexes give distinct references.
func bulkReference(seed uint64, i int) string {
	x := (uint64(i)*387420489 + seed*7919) % referenceSpace
	const alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	b := []byte("RD-000000")
	for k := 8; k >= 3; k-- {
		b[k] = alphabet[x%31]
		x /= 31
	}
	return string(b)
}

// years is the span of history the data covers.
const bulkYears = 8

func (g *bulkGen) ago(r *rand.Rand, maxAge time.Duration) time.Time {
	return g.o.Now.Add(-time.Duration(r.Int64N(int64(maxAge)))).Truncate(time.Second)
}

type bulkUser struct {
	id              int64
	username, email string
	name            string
	created         time.Time
}

// account i (0-based) of the bulk accounts; staff come after them.
func (g *bulkGen) account(i int) bulkUser {
	r := g.rand(streamUser, i)
	first, last := bulkFirstNames[r.IntN(len(bulkFirstNames))], bulkLastNames[r.IntN(len(bulkLastNames))]
	u := bulkUser{id: g.userBase + 1 + int64(i)}
	u.username = fmt.Sprintf("%s.%s%d", first, last, i)
	u.email = u.username + "@" + bulkMailDomains[r.IntN(len(bulkMailDomains))]
	u.name = strings.ToUpper(first[:1]) + first[1:] + " " + strings.ToUpper(last[:1]) + last[1:]
	u.created = g.ago(r, bulkYears*365*24*time.Hour)
	return u
}

func (g *bulkGen) staffID(k int) int64 { return g.userBase + 1 + int64(g.o.Accounts) + int64(k) }

func (g *bulkGen) userCols() []string {
	return []string{"id", "created_at", "updated_at", "username", "username_normalized", "display_name", "password_hash", "password_changed_at", "status", "staff_role", "last_login_at"}
}

func (g *bulkGen) users() pgx.CopyFromSource {
	i, n := 0, g.o.Accounts+len(bulkStaff)
	return pgx.CopyFromFunc(func() ([]any, error) {
		if i >= n {
			return nil, nil
		}
		defer func() { i++ }()
		if i >= g.o.Accounts {
			k := i - g.o.Accounts
			created := g.o.Now.AddDate(-3, 0, 0)
			role := "agent"
			if bulkStaff[k] == bulkMarker {
				role = "admin"
			}
			return []any{g.staffID(k), created, created, bulkStaff[k], bulkStaff[k], "Bulk " + bulkStaff[k], g.hash, created, "active", role, g.o.Now}, nil
		}
		u := g.account(i)
		r := g.r
		status := "active"
		if r.IntN(100) == 0 {
			status = "locked"
		}
		var lastLogin any
		if r.IntN(10) < 8 {
			lastLogin = u.created.Add(time.Duration(r.Int64N(int64(g.o.Now.Sub(u.created)) + 1)))
		}
		return []any{u.id, u.created, u.created, u.username, u.username, u.name, g.hash, u.created, status, "none", lastLogin}, nil
	})
}

func (g *bulkGen) emailCols() []string {
	return []string{"created_at", "address", "address_normalized", "primary", "verified_at", "user_id"}
}

// emails: one verified primary address per account and staff member, and
// a second (older, often unverified) address for one account in five.
func (g *bulkGen) emails() pgx.CopyFromSource {
	i, second := 0, false
	n := g.o.Accounts + len(bulkStaff)
	return pgx.CopyFromFunc(func() ([]any, error) {
		for i < n {
			if i >= g.o.Accounts {
				k := i - g.o.Accounts
				i++
				addr := bulkStaff[k] + "@recoverydesk.example"
				at := g.o.Now.AddDate(-3, 0, 0)
				return []any{at, addr, addr, true, at, g.staffID(k)}, nil
			}
			u := g.account(i)
			if !second {
				second = true
				return []any{u.created, u.email, u.email, true, u.created.Add(3 * time.Minute), u.id}, nil
			}
			second = false
			i++
			r := g.rand(streamUser+100, i-1)
			if r.IntN(5) == 0 {
				addr := strings.SplitN(u.email, "@", 2)[0] + ".old@" + bulkMailDomains[r.IntN(len(bulkMailDomains))]
				if addr == u.email {
					continue
				}
				var verified any
				if r.IntN(2) == 0 {
					verified = u.created.Add(time.Hour)
				}
				return []any{u.created, addr, addr, false, verified, u.id}, nil
			}
		}
		return nil, nil
	})
}

func (g *bulkGen) totpCols() []string {
	return []string{"created_at", "secret", "last_used_step", "confirmed_at", "user_id"}
}

// totps: six accounts in ten and every staff member use an authenticator.
func (g *bulkGen) totps() pgx.CopyFromSource {
	i, n := 0, g.o.Accounts+len(bulkStaff)
	return pgx.CopyFromFunc(func() ([]any, error) {
		for i < n {
			idx := i
			i++
			r := g.rand(streamUser+200, idx)
			if idx < g.o.Accounts && r.IntN(10) >= 6 {
				continue
			}
			secret := make([]byte, 20)
			for k := range secret {
				secret[k] = byte(r.Uint32())
			}
			var id int64
			var at time.Time
			if idx >= g.o.Accounts {
				id, at = g.staffID(idx-g.o.Accounts), g.o.Now.AddDate(-3, 0, 0)
			} else {
				u := g.account(idx)
				id, at = u.id, u.created.Add(10*time.Minute)
			}
			step := at.Unix()/30 + int64(r.IntN(1000))
			return []any{at, secret, step, at, id}, nil
		}
		return nil, nil
	})
}

type bulkProject struct {
	id          int64
	name        string
	owner       int // account index
	maintainers []int
	created     time.Time
}

func (g *bulkGen) project(p int) bulkProject {
	r := g.rand(streamProject, p)
	pr := bulkProject{id: g.projectBase + 1 + int64(p)}
	pr.name = fmt.Sprintf("%s-%s-%d", bulkProjectAdj[r.IntN(len(bulkProjectAdj))], bulkProjectNoun[r.IntN(len(bulkProjectNoun))], p)
	// A few prolific owners: squaring skews towards low indexes.
	u := r.Float64()
	pr.owner = int(u * u * float64(g.o.Accounts))
	for range r.IntN(3) {
		m := r.IntN(g.o.Accounts)
		if m != pr.owner && (len(pr.maintainers) == 0 || pr.maintainers[0] != m) {
			pr.maintainers = append(pr.maintainers, m)
		}
	}
	ownerCreated := g.account(pr.owner).created
	r = g.rand(streamProject+100, p)
	pr.created = ownerCreated.Add(time.Duration(r.Int64N(int64(g.o.Now.Sub(ownerCreated))/2 + 1))).Truncate(time.Second)
	return pr
}

func (g *bulkGen) projectCols() []string {
	return []string{"id", "created_at", "name", "name_normalized", "repository_url", "description"}
}

func (g *bulkGen) projects() pgx.CopyFromSource {
	p := 0
	return pgx.CopyFromFunc(func() ([]any, error) {
		if p >= g.o.Projects {
			return nil, nil
		}
		pr := g.project(p)
		p++
		owner := g.account(pr.owner)
		repo := "https://github.com/" + strings.ReplaceAll(owner.username, ".", "-") + "/" + pr.name
		desc := "A " + strings.ReplaceAll(pr.name[:strings.LastIndexByte(pr.name, '-')], "-", " ") + " library for Python."
		return []any{pr.id, pr.created, pr.name, pr.name, repo, desc}, nil
	})
}

func (g *bulkGen) roleCols() []string { return []string{"created_at", "role", "project_id", "user_id"} }

func (g *bulkGen) roles() pgx.CopyFromSource {
	p, k := 0, 0
	var pr bulkProject
	return pgx.CopyFromFunc(func() ([]any, error) {
		for p < g.o.Projects {
			if k == 0 {
				pr = g.project(p)
			}
			if k == 0 {
				k++
				return []any{pr.created, "owner", pr.id, g.userBase + 1 + int64(pr.owner)}, nil
			}
			if k <= len(pr.maintainers) {
				m := pr.maintainers[k-1]
				k++
				return []any{pr.created.Add(24 * time.Hour), "maintainer", pr.id, g.userBase + 1 + int64(m)}, nil
			}
			p, k = p+1, 0
		}
		return nil, nil
	})
}

// Releases are spread evenly over projects (release j belongs to project
// j*P/R), files over releases (file f to release f*R/U): about five
// releases a project at the targets, two files (sdist and wheel) each.
func (g *bulkGen) releaseProject(j int) int {
	return int(int64(j) * int64(g.o.Projects) / int64(g.nReleases))
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

type bulkRelease struct {
	id      int64
	project bulkProject
	version string
	created time.Time
}

func (g *bulkGen) release(j int) bulkRelease {
	p := g.releaseProject(j)
	first := ceilDiv(int64(p)*int64(g.nReleases), int64(g.o.Projects))
	next := ceilDiv(int64(p+1)*int64(g.nReleases), int64(g.o.Projects))
	k, n := int64(j)-first, next-first
	pr := g.project(p)
	r := g.rand(streamRelease, j)
	span := g.o.Now.Sub(pr.created)
	at := pr.created.Add(time.Duration((float64(k) + r.Float64()) / float64(n) * float64(span))).Truncate(time.Second)
	return bulkRelease{
		id: g.releaseBase + 1 + int64(j), project: pr, created: at,
		version: fmt.Sprintf("%d.%d.%d", k/8, k%8, r.IntN(3)),
	}
}

func (g *bulkGen) releaseCols() []string {
	return []string{"id", "created_at", "version", "project_id"}
}

func (g *bulkGen) releases() pgx.CopyFromSource {
	j := 0
	return pgx.CopyFromFunc(func() ([]any, error) {
		if j >= g.nReleases {
			return nil, nil
		}
		rel := g.release(j)
		j++
		return []any{rel.id, rel.created, rel.version, rel.project.id}, nil
	})
}

func (g *bulkGen) fileCols() []string {
	return []string{"filename", "size", "sha256", "md5", "package_type", "python_version", "uploaded_at", "ip", "storage_key", "release_id", "uploader_id"}
}

func (g *bulkGen) files() pgx.CopyFromSource {
	f, lastJ := 0, -1
	var rel bulkRelease
	U, R := int64(g.o.Uploads), int64(g.nReleases)
	return pgx.CopyFromFunc(func() ([]any, error) {
		if f >= g.o.Uploads {
			return nil, nil
		}
		j := int(int64(f) * R / U)
		if j != lastJ {
			rel, lastJ = g.release(j), j
		}
		q := int64(f) - ceilDiv(int64(j)*U, R)
		r := g.rand(streamFile, f)
		f++
		var name, typ, py string
		wheelName := strings.ReplaceAll(rel.project.name, "-", "_")
		switch q {
		case 0:
			name, typ, py = rel.project.name+"-"+rel.version+".tar.gz", "sdist", "source"
		case 1:
			name, typ, py = wheelName+"-"+rel.version+"-py3-none-any.whl", "bdist_wheel", "py3"
		default:
			py = fmt.Sprintf("cp3%d", 6+q)
			name, typ = fmt.Sprintf("%s-%s-%s-%s-manylinux_2_17_x86_64.whl", wheelName, rel.version, py, py), "bdist_wheel"
		}
		size := int64(math.Exp(9 + r.NormFloat64()*1.5))
		sum := sha256.Sum256([]byte(name))
		m5 := md5.Sum([]byte(name))
		ip := fmt.Sprintf("203.0.113.%d", 1+r.IntN(254))
		uploader := g.userBase + 1 + int64(rel.project.owner)
		return []any{name, size, hex.EncodeToString(sum[:]), hex.EncodeToString(m5[:]), typ, py,
			rel.created.Add(time.Duration(q) * time.Minute), ip, "bulk/" + name, rel.id, uploader}, nil
	})
}

var (
	bulkOpen    = []string{"new", "waiting_on_requester", "waiting_on_challenge", "ready_for_decision", "reset_scheduled"}
	bulkSettled = []string{"resolved", "resolved", "resolved", "resolved", "resolved", "closed", "closed", "closed", "denied", "denied"}
	bulkRecs    = []string{"approve", "challenge", "need_more_info", "deny", "none"}
)

// bulkCase is one case and its thread's shape.
type bulkCase struct {
	id                    int64
	kind, status          string
	subject               string
	name, email           string
	claimed               any
	account               any
	assignee              int64 // 0: none
	created               time.Time
	times                 []time.Time
	dirs                  []string // per message: inbound, outbound, note
	firstResponded        *time.Time
	resolved              *time.Time
	last                  time.Time
	risk                  int64
	rec                   any
	tags                  []string
	ccAddr                string
	firstDue, resolutionD time.Time
}

func (g *bulkGen) caseAt(c int) bulkCase {
	r := g.rand(streamCase, c)
	k := bulkCase{id: g.caseBase + 1 + int64(c), kind: "recovery", tags: []string{}}
	if r.IntN(100) < 15 {
		k.kind = "general"
	}
	// Three years of cases, more of them recent.
	u := r.Float64()
	age := time.Duration(u * u * float64(3*365*24*time.Hour))
	k.created = g.o.Now.Add(-age - time.Hour).Truncate(time.Second)
	open := false
	switch {
	case age < 14*24*time.Hour:
		open = r.IntN(100) < 60
	case age < 60*24*time.Hour:
		open = r.IntN(100) < 15
	default:
		open = r.IntN(1000) < 5
	}
	if open {
		k.status = bulkOpen[r.IntN(len(bulkOpen))]
		if k.kind == "general" && k.status != "new" {
			k.status = "waiting_on_requester"
		}
	} else {
		k.status = bulkSettled[r.IntN(len(bulkSettled))]
	}
	k.subject = bulkCaseSubjects[r.IntN(len(bulkCaseSubjects))]
	if g.o.Accounts > 0 && r.IntN(100) < 60 {
		a := g.account(r.IntN(g.o.Accounts))
		r = g.rand(streamCase+100, c)
		k.account, k.claimed, k.name = a.id, a.username, a.name
		k.email = a.email
		if r.IntN(10) < 3 {
			k.email = strings.SplitN(a.email, "@", 2)[0] + "." + fmt.Sprint(r.IntN(100)) + "@" + bulkMailDomains[r.IntN(len(bulkMailDomains))]
		}
	} else {
		r = g.rand(streamCase+100, c)
		first, last := bulkFirstNames[r.IntN(len(bulkFirstNames))], bulkLastNames[r.IntN(len(bulkLastNames))]
		k.name = strings.ToUpper(first[:1]) + first[1:] + " " + strings.ToUpper(last[:1]) + last[1:]
		k.email = fmt.Sprintf("%s.%s.%d@%s", first, last, c, bulkMailDomains[r.IntN(len(bulkMailDomains))])
		if k.kind == "recovery" {
			k.claimed = fmt.Sprintf("%s%s%d", first, last, r.IntN(1000))
		}
	}
	if k.status != "new" || r.IntN(10) < 3 {
		k.assignee = g.staffID(r.IntN(len(bulkStaff)))
	}
	k.risk = int64(r.IntN(101))
	if k.kind == "recovery" && (k.status != "new" || r.IntN(2) == 0) {
		k.rec = bulkRecs[r.IntN(len(bulkRecs))]
	}
	for range []int{0, 0, 0, 0, 0, 0, 1, 1, 1, 2}[r.IntN(10)] {
		t := bulkTags[r.IntN(len(bulkTags))]
		if len(k.tags) == 0 || k.tags[0] != t {
			k.tags = append(k.tags, t)
		}
	}
	if r.IntN(10) == 0 {
		k.ccAddr = fmt.Sprintf("colleague.%d@%s", c, bulkMailDomains[r.IntN(len(bulkMailDomains))])
	}
	// The thread: the request, then replies and follow-ups at gaps of
	// minutes to days, squeezed to fit before now.
	n := int(g.msgCount[c])
	k.dirs = make([]string, n)
	k.times = make([]time.Time, n)
	gaps := make([]float64, n)
	total := 0.0
	for m := range n {
		switch {
		case m == 0:
			k.dirs[m] = "inbound"
		case k.status == "new":
			k.dirs[m] = "inbound"
		case r.IntN(10) == 0:
			k.dirs[m] = "note"
		case k.dirs[m-1] == "outbound":
			k.dirs[m] = "inbound"
		default:
			k.dirs[m] = "outbound"
		}
		if m > 0 {
			gaps[m] = 600 + r.ExpFloat64()*8*3600
		}
		total += gaps[m]
	}
	room := g.o.Now.Sub(k.created).Seconds() * 0.9
	scale := 1.0
	if total > room {
		scale = room / total
	}
	at := k.created
	for m := range n {
		at = at.Add(time.Duration(gaps[m] * scale * float64(time.Second))).Truncate(time.Second)
		k.times[m] = at
		if k.dirs[m] == "outbound" && k.firstResponded == nil {
			t := at
			k.firstResponded = &t
		}
	}
	k.last = k.created
	if n > 0 {
		k.last = k.times[n-1]
	}
	if !open {
		t := k.last.Add(time.Duration(r.Int64N(int64(48 * time.Hour))))
		if t.After(g.o.Now) {
			t = g.o.Now
		}
		t = t.Truncate(time.Second)
		k.resolved, k.last = &t, t
	}
	d := desk.DefaultSLA.DeadlinesFor(supportcase.Kind(k.kind), k.created)
	k.firstDue, k.resolutionD = d.FirstResponse, d.Resolution
	return k
}

func (g *bulkGen) caseCols() []string {
	return []string{"id", "created_at", "updated_at", "reference", "kind", "status", "subject", "requester_name", "requester_email",
		"requester_email_normalized", "claimed_username", "status_token_hash", "tags", "risk", "recommendation",
		"first_response_due", "resolution_due", "first_responded_at", "last_activity_at", "account_id", "assignee_id", "sla_due", "resolved_at"}
}

func (g *bulkGen) cases() pgx.CopyFromSource {
	c := 0
	return pgx.CopyFromFunc(func() ([]any, error) {
		if c >= g.o.Cases {
			return nil, nil
		}
		k := g.caseAt(c)
		token := sha256.Sum256(fmt.Appendf(nil, "bulk-status-%d-%d", g.o.Seed, c))
		ref := g.refs[c]
		c++
		var assignee, responded, resolved, slaDue any
		if k.assignee != 0 {
			assignee = k.assignee
		}
		if k.firstResponded != nil {
			responded = *k.firstResponded
		}
		if k.resolved != nil {
			resolved = *k.resolved
		} else if k.firstResponded == nil {
			slaDue = k.firstDue
		} else {
			slaDue = k.resolutionD
		}
		email := strings.ToLower(k.email)
		return []any{k.id, k.created, k.last, ref, k.kind, k.status, k.subject, k.name, k.email, email, k.claimed,
			token[:], k.tags, k.risk, k.rec, k.firstDue, k.resolutionD, responded, k.last, k.account, assignee, slaDue, resolved}, nil
	})
}

func (g *bulkGen) participantCols() []string {
	return []string{"created_at", "email_normalized", "role", "case_id"}
}

func (g *bulkGen) participants() pgx.CopyFromSource {
	c, cc := 0, ""
	var created time.Time
	var id int64
	return pgx.CopyFromFunc(func() ([]any, error) {
		if cc != "" {
			row := []any{created, cc, "cc", id}
			cc = ""
			return row, nil
		}
		if c >= g.o.Cases {
			return nil, nil
		}
		k := g.caseAt(c)
		c++
		created, id, cc = k.created, k.id, k.ccAddr
		return []any{k.created, strings.ToLower(k.email), "requester", k.id}, nil
	})
}

func (g *bulkGen) messageCols() []string {
	return []string{"created_at", "mailbox", "message_id_header", "in_reply_to", "references", "direction", "visibility", "channel",
		"from_address", "from_name", "to", "cc", "subject", "body_text", "received_at", "case_id", "author_id"}
}

const bulkDeskAddress = "support@recoverydesk.example"

func (g *bulkGen) messages() pgx.CopyFromSource {
	c, m := 0, 0
	var k bulkCase
	var ids []string
	return pgx.CopyFromFunc(func() ([]any, error) {
		for c < g.o.Cases {
			if m == 0 {
				k = g.caseAt(c)
				ids = ids[:0]
			}
			if m >= len(k.dirs) {
				c, m = c+1, 0
				continue
			}
			r := g.rand(streamMessage, int(k.id)*64+m)
			at := k.times[m]
			dir := k.dirs[m]
			var mailbox, inReplyTo, author any
			refs := []string{}
			if len(ids) > 0 {
				inReplyTo = ids[len(ids)-1]
				refs = append(refs, ids[max(0, len(ids)-5):]...)
			}
			subject := k.subject
			if m > 0 {
				subject = "Re: " + k.subject + " [" + g.refs[c] + "]"
			}
			to, cc := []string{bulkDeskAddress}, []string{}
			if k.ccAddr != "" {
				cc = append(cc, k.ccAddr)
			}
			var id, channel, from, fromName, body, visibility string
			visibility = "public"
			switch dir {
			case "inbound":
				id = fmt.Sprintf("<%d.%d.%x@%s>", k.id, m, r.Uint32(), strings.SplitN(k.email, "@", 2)[1])
				channel, from, fromName = "email", k.email, k.name
				if m == 0 && r.IntN(2) == 0 {
					channel = "web"
				} else {
					mailbox = "INBOX"
				}
				body = bulkBody(r, k.name)
			case "outbound":
				id = fmt.Sprintf("<rd.%d.%d@recoverydesk.example>", k.id, m)
				channel, from, fromName, to = "desk", bulkDeskAddress, "Recovery Desk", []string{k.email}
				staff := k.assignee
				if staff == 0 {
					staff = g.staffID(r.IntN(len(bulkStaff)))
				}
				author = staff
				body = bulkBody(r, "Recovery Desk")
			default:
				id = fmt.Sprintf("<note.%d.%d@recoverydesk.example>", k.id, m)
				channel, visibility, from, fromName, to, cc = "desk", "internal", bulkDeskAddress, "Recovery Desk", []string{}, []string{}
				staff := k.assignee
				if staff == 0 {
					staff = g.staffID(r.IntN(len(bulkStaff)))
				}
				author, subject, inReplyTo, refs = staff, "", nil, []string{}
				body = bulkBody(r, "")
			}
			if dir != "note" {
				ids = append(ids, id)
			}
			m++
			return []any{at, mailbox, id, inReplyTo, refs, dir, visibility, channel, from, fromName, to, cc, subject, body, at, k.id, author}, nil
		}
		return nil, nil
	})
}

// buildSearch fills case_search for the bulk cases in one statement, as
// the triggers would have row by row (see the case_search migration).
func (g *bulkGen) buildSearch(ctx context.Context, tx pgx.Tx) (int64, error) {
	tag, err := tx.Exec(ctx, `
INSERT INTO case_search (case_id, document)
SELECT c.id, strip(to_tsvector('english', concat_ws(' ', c.reference, c.subject, c.requester_name, c.requester_email, c.claimed_username)))
	|| coalesce(m.doc, ''::tsvector)
FROM cases c
LEFT JOIN (
	SELECT case_id, strip(to_tsvector('english', left(string_agg(concat_ws(' ', from_address, from_name, subject, body_text), ' ' ORDER BY id), 200000))) AS doc
	FROM messages WHERE case_id > $1 AND case_id <= $2 GROUP BY case_id
) m ON m.case_id = c.id
WHERE c.id > $1 AND c.id <= $2
ON CONFLICT (case_id) DO NOTHING`, g.caseBase, g.caseBase+int64(g.o.Cases))
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}
