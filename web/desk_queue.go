package web

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
	"github.com/recoverydesk/recoverydesk/web/views/components"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// queueSorts are the queue's orders as the form offers them.
var queueSorts = []components.Option{
	{Value: desk.SortDue, Label: "SLA due date, soonest first"},
	{Value: desk.SortActivity, Label: "Last activity, most recent first"},
	{Value: desk.SortCreated, Label: "Opened, newest first"},
	{Value: desk.SortRisk, Label: "Risk, most red flags first"},
}

// deskQueue is the staff queue (issue 6): filters, sort orders, full-text
// search and keyset pages, all in the query string so that every view can
// be bookmarked and the form works without JavaScript.
func (h *handler) deskQueue(c *fiber.Ctx) error {
	if h.tr == nil {
		return fiber.ErrNotFound
	}
	ctx := c.UserContext()
	staff, err := h.tr.StaffMembers(ctx)
	if err != nil {
		return fmt.Errorf("web: desk queue: %w", err)
	}
	f := pages.DeskQueueFilters{
		Assignee: c.Query("assignee"), Kind: c.Query("kind"), Recommendation: c.Query("recommendation"),
		Tag: c.Query("tag"), Q: c.Query("q"), Sort: c.Query("sort", desk.SortDue),
	}
	q := desk.QueueQuery{
		Viewer: currentSession(c).UserID, Assignee: f.Assignee, Kind: f.Kind, Recommendation: f.Recommendation,
		Tag: f.Tag, Search: f.Q, Sort: f.Sort, After: c.Query("after"),
	}
	for _, s := range c.Context().QueryArgs().PeekMulti("status") {
		if string(s) == "all" {
			f.All, q.AllStatuses = true, true
			continue
		}
		f.Statuses = append(f.Statuses, string(s))
		q.Statuses = append(q.Statuses, supportcase.Status(s))
	}
	if !f.All && len(f.Statuses) == 0 {
		for _, s := range desk.OpenStatuses() {
			f.Statuses = append(f.Statuses, string(s))
		}
	}

	v := pages.DeskQueueView{
		Page: h.page(c, "Case queue"), Now: h.now(), Filters: f,
		Query: queueQuery(f), Paged: q.After != "",
		StatusOptions: queueStatusOptions(), AssigneeOptions: queueAssigneeOptions(staff),
		KindOptions:           []components.Option{{Value: "", Label: "Any kind"}, {Value: "recovery", Label: "Recovery"}, {Value: "general", Label: "General"}},
		RecommendationOptions: queueRecommendationOptions(), SortOptions: queueSorts,
	}
	for _, o := range queueSorts {
		if o.Value == f.Sort {
			v.SortLabel = o.Label
		}
	}
	if errs := queueAssigneeError(f.Assignee, staff); errs != nil {
		v.Errors = errs
		return render(c, fiber.StatusUnprocessableEntity, pages.DeskQueue(v))
	}
	page, err := h.tr.Queue(ctx, q)
	var fields desk.FieldErrors
	switch {
	case errors.As(err, &fields):
		v.Errors = fields
		return render(c, fiber.StatusUnprocessableEntity, pages.DeskQueue(v))
	case errors.Is(err, desk.ErrBadCursor):
		v.Problem = "This page link is damaged or out of date. Use the first page link to start again from the top."
		return render(c, fiber.StatusBadRequest, pages.DeskQueue(v))
	case err != nil:
		return fmt.Errorf("web: desk queue: %w", err)
	}
	v.Next = page.Next
	for _, r := range page.Rows {
		v.Rows = append(v.Rows, pages.DeskQueueRow{
			Reference: r.Reference, Subject: r.Subject, RequesterName: r.RequesterName, RequesterEmail: r.RequesterEmail,
			Account: r.Account, Assignee: r.Assignee, Kind: string(r.Kind), Status: string(r.Status),
			Recommendation: r.Recommendation.Describe(), Risk: r.Risk,
			Created: r.Created, LastActivity: r.LastActivity, Due: r.SLADue, Tags: r.Tags,
		})
	}
	return render(c, fiber.StatusOK, pages.DeskQueue(v))
}

// queueQuery is the filters as a query string, for the page links: the
// statuses only when chosen (the default is the open ones), the sort only
// when not the default.
func queueQuery(f pages.DeskQueueFilters) string {
	q := url.Values{}
	if f.All {
		q.Add("status", "all")
	}
	open := desk.OpenStatuses()
	isDefault := !f.All && len(f.Statuses) == len(open)
	for i, s := range open {
		isDefault = isDefault && f.Statuses[i] == string(s)
	}
	if !isDefault {
		for _, s := range f.Statuses {
			q.Add("status", s)
		}
	}
	for k, val := range map[string]string{"assignee": f.Assignee, "kind": f.Kind, "recommendation": f.Recommendation, "tag": f.Tag, "q": f.Q} {
		if val != "" {
			q.Set(k, val)
		}
	}
	if f.Sort != desk.SortDue {
		q.Set("sort", f.Sort)
	}
	return q.Encode()
}

func queueStatusOptions() []components.Option {
	out := make([]components.Option, 0, len(desk.Statuses)+1)
	for _, s := range desk.Statuses {
		out = append(out, components.Option{Value: string(s), Label: pages.DeskWords(string(s))})
	}
	return append(out, components.Option{Value: "all", Label: "All statuses"})
}

func queueAssigneeOptions(staff []desk.StaffMember) []components.Option {
	out := []components.Option{
		{Value: "", Label: "Anyone"},
		{Value: desk.AssigneeMine, Label: "Assigned to me"},
		{Value: desk.AssigneeUnassigned, Label: "Unassigned"},
	}
	for _, m := range staff {
		out = append(out, components.Option{Value: strconv.Itoa(m.ID), Label: m.Username + " (" + m.Role + ")"})
	}
	return out
}

// queueAssigneeError refuses an assignee id that is no staff member's.
func queueAssigneeError(assignee string, staff []desk.StaffMember) desk.FieldErrors {
	switch assignee {
	case "", desk.AssigneeMine, desk.AssigneeUnassigned:
		return nil
	}
	for _, m := range staff {
		if strconv.Itoa(m.ID) == assignee {
			return nil
		}
	}
	return desk.FieldErrors{"assignee": "Choose a staff member, yourself or unassigned."}
}

func queueRecommendationOptions() []components.Option {
	out := []components.Option{{Value: "", Label: "Any recommendation"}}
	for _, r := range desk.Recommendations {
		out = append(out, components.Option{Value: string(r), Label: r.Describe()})
	}
	return out
}
