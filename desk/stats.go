package desk

import (
	"context"
	"fmt"
	"time"

	"github.com/recoverydesk/recoverydesk/ent/supportcase"
)

// Stats is the desk's dashboard: the open workload now and what happened
// over a window of whole days (UTC) ending now. Cases merged into another
// are left out of case counts: they are duplicates of the survivor.
type Stats struct {
	Days int
	// From is the start of the window, midnight UTC Days-1 days before
	// Now's day.
	From, Now time.Time
	// Open counts the open cases by status, every open status listed.
	Open []StatusCount
	// PerDay has one entry per day of the window, oldest first.
	PerDay []DayCount
	// Times to first response and to resolution of the cases opened in
	// the window (those that got there).
	FirstResponse, Resolution Durations
	// Overdue counts open cases whose next deadline passed.
	Overdue int
	// LateFirstResponses and LateResolutions count cases opened in the
	// window answered, or settled, after their deadline.
	LateFirstResponses, LateResolutions int
	// ResetsScheduled counts 2FA resets scheduled in the window,
	// Approvals the admins' approvals given and Denials the cases denied.
	ResetsScheduled, Approvals, Denials int
}

// StatusCount is the number of cases in a status.
type StatusCount struct {
	Status supportcase.Status
	Count  int
}

// DayCount is what happened on one day (starting at Day, UTC).
type DayCount struct {
	Day           time.Time
	New, Resolved int
}

// Durations summarise how long something took: N cases, their median and
// 90th percentile (zero when N is 0).
type Durations struct {
	N           int
	Median, P90 time.Duration
}

// Stats computes the dashboard for the days (at least 1) ending at now.
func (t *Triage) Stats(ctx context.Context, days int, now time.Time) (Stats, error) {
	if days < 1 {
		days = 1
	}
	now = now.UTC()
	y, m, d := now.Date()
	from := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -(days - 1))
	s := Stats{Days: days, From: from, Now: now, PerDay: make([]DayCount, days)}
	for i := range s.PerDay {
		s.PerDay[i].Day = from.AddDate(0, 0, i)
	}
	if err := t.statsOpen(ctx, &s); err != nil {
		return Stats{}, err
	}
	if err := t.statsPerDay(ctx, &s); err != nil {
		return Stats{}, err
	}
	if err := t.statsWindow(ctx, &s); err != nil {
		return Stats{}, err
	}
	return s, nil
}

// statsOpen counts the open cases by status and the overdue ones.
func (t *Triage) statsOpen(ctx context.Context, s *Stats) error {
	counts := map[supportcase.Status]int{}
	rows, err := t.st.Pool.Query(ctx, `SELECT status, count(*), count(*) FILTER (WHERE sla_due < $1)
		FROM cases WHERE merged_into_id IS NULL AND status NOT IN ('resolved', 'denied', 'closed')
		GROUP BY status`, s.Now)
	if err != nil {
		return fmt.Errorf("desk: stats: open cases: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var status string
		var n, overdue int
		if err := rows.Scan(&status, &n, &overdue); err != nil {
			return fmt.Errorf("desk: stats: open cases: %w", err)
		}
		counts[supportcase.Status(status)] = n
		s.Overdue += overdue
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("desk: stats: open cases: %w", err)
	}
	for _, st := range OpenStatuses() {
		s.Open = append(s.Open, StatusCount{Status: st, Count: counts[st]})
	}
	return nil
}

// statsPerDay counts the cases opened and resolved on each day.
func (t *Triage) statsPerDay(ctx context.Context, s *Stats) error {
	rows, err := t.st.Pool.Query(ctx, `
		SELECT floor(extract(epoch FROM created_at - $1::timestamptz) / 86400)::int, 'new', count(*)
		FROM cases WHERE merged_into_id IS NULL AND created_at >= $1 AND created_at <= $2 GROUP BY 1
		UNION ALL
		SELECT floor(extract(epoch FROM resolved_at - $1::timestamptz) / 86400)::int, 'resolved', count(*)
		FROM cases WHERE merged_into_id IS NULL AND resolved_at >= $1 AND resolved_at <= $2 GROUP BY 1`, s.From, s.Now)
	if err != nil {
		return fmt.Errorf("desk: stats: per day: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var day, n int
		var what string
		if err := rows.Scan(&day, &what, &n); err != nil {
			return fmt.Errorf("desk: stats: per day: %w", err)
		}
		if day < 0 || day >= len(s.PerDay) {
			continue
		}
		if what == "new" {
			s.PerDay[day].New = n
		} else {
			s.PerDay[day].Resolved = n
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("desk: stats: per day: %w", err)
	}
	return nil
}

// statsWindow computes the response times, missed deadlines and decisions
// of the window.
func (t *Triage) statsWindow(ctx context.Context, s *Stats) error {
	var frMed, frP90, resMed, resP90 *float64
	err := t.st.Pool.QueryRow(ctx, `
		SELECT
			count(first_responded_at),
			percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_responded_at - created_at)),
			percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM first_responded_at - created_at)),
			count(resolved_at),
			percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - created_at)),
			percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - created_at)),
			count(*) FILTER (WHERE first_responded_at > first_response_due),
			count(*) FILTER (WHERE resolved_at > resolution_due),
			(SELECT count(*) FROM reset_requests WHERE created_at >= $1 AND created_at <= $2),
			(SELECT count(*) FROM reset_approvals WHERE created_at >= $1 AND created_at <= $2),
			(SELECT count(*) FROM cases WHERE merged_into_id IS NULL AND status = 'denied' AND resolved_at >= $1 AND resolved_at <= $2)
		FROM cases WHERE merged_into_id IS NULL AND created_at >= $1 AND created_at <= $2`, s.From, s.Now).
		Scan(&s.FirstResponse.N, &frMed, &frP90, &s.Resolution.N, &resMed, &resP90,
			&s.LateFirstResponses, &s.LateResolutions, &s.ResetsScheduled, &s.Approvals, &s.Denials)
	if err != nil {
		return fmt.Errorf("desk: stats: window: %w", err)
	}
	s.FirstResponse.Median, s.FirstResponse.P90 = seconds(frMed), seconds(frP90)
	s.Resolution.Median, s.Resolution.P90 = seconds(resMed), seconds(resP90)
	return nil
}

// seconds turns a number of seconds from SQL into a duration, rounded to
// the second.
func seconds(f *float64) time.Duration {
	if f == nil {
		return 0
	}
	return time.Duration(*f * float64(time.Second)).Round(time.Second)
}
