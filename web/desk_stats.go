package web

import (
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/web/views/components"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// statsPeriods are the dashboard's periods, in days.
var statsPeriods = []components.Option{
	{Value: "7", Label: "Last 7 days"},
	{Value: "30", Label: "Last 30 days"},
	{Value: "90", Label: "Last 90 days"},
}

// deskStats is the desk's dashboard: the open workload, and new and
// resolved cases, response times, missed deadlines and decisions over
// the chosen period (?days=7, 30 or 90).
func (h *handler) deskStats(c *fiber.Ctx) error {
	if h.tr == nil {
		return fiber.ErrNotFound
	}
	v := pages.DeskStatsView{Page: h.page(c, "Desk dashboard"), Days: c.Query("days", "7"), DayOptions: statsPeriods}
	days := 0
	for _, p := range statsPeriods {
		if p.Value == v.Days {
			days, _ = strconv.Atoi(p.Value)
		}
	}
	if days == 0 {
		v.Error = "Choose a period of 7, 30 or 90 days."
		return render(c, fiber.StatusUnprocessableEntity, pages.DeskStats(v))
	}
	s, err := h.tr.Stats(c.UserContext(), days, h.now())
	if err != nil {
		return fmt.Errorf("web: desk stats: %w", err)
	}
	v.From, v.Now = s.From, s.Now
	v.Overdue, v.LateFirstResponses, v.LateResolutions = s.Overdue, s.LateFirstResponses, s.LateResolutions
	v.ResetsScheduled, v.Approvals, v.Denials = s.ResetsScheduled, s.Approvals, s.Denials
	v.FirstResponse = pages.DeskDurations{N: s.FirstResponse.N, Median: s.FirstResponse.Median, P90: s.FirstResponse.P90}
	v.Resolution = pages.DeskDurations{N: s.Resolution.N, Median: s.Resolution.Median, P90: s.Resolution.P90}
	for _, o := range s.Open {
		v.Open = append(v.Open, pages.DeskStatusCount{Status: string(o.Status), Count: o.Count})
	}
	for _, d := range s.PerDay {
		v.PerDay = append(v.PerDay, pages.DeskDayCount{Day: d.Day, New: d.New, Resolved: d.Resolved})
	}
	return render(c, fiber.StatusOK, pages.DeskStats(v))
}
