package web

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/recoverydesk/recoverydesk/desk"
	"github.com/recoverydesk/recoverydesk/web/views/pages"
)

// Decisions on a case: approve the 2FA reset, deny, ask for more. A
// refused form shows the panel again on its own page with the errors next
// to their fields (422); a refusal of the role is 403; success goes back
// to the case with a confirmation.

// deskActor is the signed-in staff member as desk sees them; approving
// needs a session that signed in with a security key or passkey.
func deskActor(c *fiber.Ctx) desk.Actor {
	s := currentSession(c)
	return desk.Actor{UserID: s.UserID,
		WebAuthn: slices.Contains(s.AuthMethods, "webauthn") || slices.Contains(s.AuthMethods, "passkey")}
}

// deskApprove records an admin's approval of the reset.
func (h *handler) deskApprove(c *fiber.Ctx) error {
	if h.tr == nil {
		return fiber.ErrNotFound
	}
	ref := c.Params("ref")
	in := desk.ApproveInput{
		Reason:    c.FormValue(pages.DecisionApproveReason),
		Immediate: c.FormValue(pages.DecisionImmediate) != "",
		NewEmail:  c.FormValue(pages.DecisionNewEmail),
	}
	res, err := h.tr.Approve(c.UserContext(), ref, deskActor(c), in)
	if err != nil {
		values := map[string]string{
			pages.DecisionApproveReason: in.Reason, pages.DecisionNewEmail: in.NewEmail,
		}
		if in.Immediate {
			values[pages.DecisionImmediate] = "1"
		}
		return h.decisionRefused(c, ref, err, values, map[string]string{
			"reason": pages.DecisionApproveReason, "immediate": pages.DecisionImmediate, "new_email": pages.DecisionNewEmail,
		})
	}
	msg := "Your approval is recorded. A second admin must approve before the reset is scheduled."
	if res.Scheduled {
		msg = "Reset approved: it runs on " + res.ScheduledFor.UTC().Format(desk.WhenLayout) +
			". Every verified address of the account was emailed a link that cancels it."
	}
	return h.redirectWithFlash(c, deskCasePath(normRef(ref)), "success", msg)
}

// deskDeny declines the request; the reason is mailed to the requester.
func (h *handler) deskDeny(c *fiber.Ctx) error {
	if h.tr == nil {
		return fiber.ErrNotFound
	}
	ref, reason := c.Params("ref"), c.FormValue(pages.DecisionDenyReason)
	if err := h.tr.Deny(c.UserContext(), ref, deskActor(c), reason); err != nil {
		return h.decisionRefused(c, ref, err, map[string]string{pages.DecisionDenyReason: reason},
			map[string]string{"reason": pages.DecisionDenyReason})
	}
	return h.redirectWithFlash(c, deskCasePath(normRef(ref)), "success", "Request denied; the reason was mailed to the requester.")
}

// deskMoreInfo asks the requester for more; an empty message with a
// canned reply chosen sends the canned reply.
func (h *handler) deskMoreInfo(c *fiber.Ctx) error {
	if h.tr == nil {
		return fiber.ErrNotFound
	}
	ref := c.Params("ref")
	body, canned := c.FormValue(pages.DecisionMoreInfo), c.FormValue(pages.DecisionCanned)
	if strings.TrimSpace(body) == "" && canned != "" {
		replies, err := h.tr.CannedReplies(c.UserContext())
		if err != nil {
			return fmt.Errorf("web: canned replies: %w", err)
		}
		for _, r := range replies {
			if strconv.Itoa(r.ID) == canned {
				body = r.Body
			}
		}
	}
	if err := h.tr.AskMoreInfo(c.UserContext(), ref, deskActor(c), body); err != nil {
		return h.decisionRefused(c, ref, err, map[string]string{pages.DecisionMoreInfo: body, pages.DecisionCanned: canned},
			map[string]string{"body": pages.DecisionMoreInfo})
	}
	return h.redirectWithFlash(c, deskCasePath(normRef(ref)), "success", "Sent; the case waits for the requester's answer.")
}

// normRef is ref normalised, or as given when it does not parse.
func normRef(ref string) string {
	if n, ok := desk.NormalizeReference(ref); ok {
		return n
	}
	return ref
}

// decisionRefused answers a refused decision: 403 for the role (with what
// to do about a missing security key), 404 for an unknown case, the panel
// with errors next to the fields (422) or with the problem on top (409).
// fields maps desk's field names to the form's.
func (h *handler) decisionRefused(c *fiber.Ctx, ref string, err error, values, fields map[string]string) error {
	var fe desk.FieldErrors
	errs := map[string]string{}
	status := fiber.StatusUnprocessableEntity
	switch {
	case errors.Is(err, desk.ErrNeedsWebAuthn):
		return fiber.NewError(fiber.StatusForbidden, "Approving a reset needs an admin signed in with a security key. Sign in with your security key to approve.")
	case errors.Is(err, desk.ErrForbidden):
		return fiber.NewError(fiber.StatusForbidden, "Your role does not allow this decision.")
	case errors.Is(err, desk.ErrNotFound):
		return fiber.ErrNotFound
	case errors.As(err, &fe):
		for k, msg := range fe {
			if f, ok := fields[k]; ok {
				k = f
			}
			errs[k] = msg
		}
	case errors.Is(err, desk.ErrSameAdmin):
		status, errs[pages.DecisionProblem] = fiber.StatusConflict, "You already approved this reset; a second admin must approve."
	case errors.Is(err, desk.ErrNotDecidable), errors.Is(err, desk.ErrMerged):
		status, errs[pages.DecisionProblem] = fiber.StatusConflict, problemText(err)
	default:
		return fmt.Errorf("web: decision on %q: %w", ref, err)
	}
	v, err := h.decisionState(c, ref)
	if err != nil {
		return err
	}
	v.Errors, v.Values = errs, values
	return render(c, status, pages.DeskDecisionPage(pages.DeskDecisionPageView{Page: h.page(c, "Decision on "+v.Reference), Decision: v}))
}

// problemText is a desk error's message without the package prefix.
func problemText(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

// decisionView is the case page's decision panel for case f. A failure
// to read the decision state leaves the panel with only its reference
// (the rest of the case page still works) and is logged.
func (h *handler) decisionView(c *fiber.Ctx, f *desk.CaseFile) pages.DeskDecisionView {
	v, err := h.decisionState(c, f.Reference)
	if err != nil {
		h.log.ErrorContext(c.UserContext(), "decision panel", slog.String("case", f.Reference), slog.Any("err", err))
		return pages.DeskDecisionView{Reference: f.Reference, CSRFToken: h.csrfToken(c)}
	}
	return v
}

// decisionState fills the panel of case ref for the signed-in staff
// member.
func (h *handler) decisionState(c *fiber.Ctx, ref string) (pages.DeskDecisionView, error) {
	if h.tr == nil {
		return pages.DeskDecisionView{}, fiber.ErrNotFound
	}
	s, err := h.tr.DecisionState(c.UserContext(), ref, deskActor(c))
	if errors.Is(err, desk.ErrNotFound) {
		return pages.DeskDecisionView{}, fiber.ErrNotFound
	}
	if err != nil {
		return pages.DeskDecisionView{}, fmt.Errorf("web: decision state of %q: %w", ref, err)
	}
	const when = "2 Jan 2006, 15:04 UTC"
	v := pages.DeskDecisionView{
		Reference: normRef(ref), CSRFToken: h.csrfToken(c),
		Recommendation: s.Recommendation.Describe(), Approvable: s.Recommendation == desk.RecommendApprove,
		CanApprove: s.CanApprove, ApproveBlocked: s.ApproveBlocked, NeedsSecondAdmin: s.NeedsSecondAdmin,
		ProofOfControl: s.ProofOfControl, ProvenAddresses: s.ProvenAddresses,
		WaitingPeriod: waitingWords(s.WaitingPeriod.Hours()),
		Open:          s.Open,
		CanAsk:        s.CanAsk,
	}
	for _, p := range s.Pending {
		v.Pending = append(v.Pending, pages.DeskPendingApproval{Admin: p.Admin, Reason: p.Reason, At: p.At.UTC().Format(when), Mine: p.Mine})
	}
	if r := s.Reset; r != nil {
		info := &pages.DeskResetInfo{Status: r.Status, When: r.ScheduledFor.UTC().Format(when),
			ApprovedBy: r.ApprovedBy, SecondApprover: r.SecondApprover, NewEmail: r.NewEmail}
		switch {
		case r.ExecutedAt != nil:
			info.Done = "Done " + r.ExecutedAt.UTC().Format(when)
		case r.CancelledAt != nil:
			info.Done = "Cancelled by the owner's link " + r.CancelledAt.UTC().Format(when)
		}
		v.Reset = info
	}
	replies, err := h.tr.CannedReplies(c.UserContext())
	if err != nil {
		return v, fmt.Errorf("web: canned replies: %w", err)
	}
	for _, r := range replies {
		v.Canned = append(v.Canned, pages.DeskCannedOption{ID: strconv.Itoa(r.ID), Name: r.Name, Body: r.Body})
	}
	return v, nil
}

// waitingWords writes the waiting period in hours, or "none".
func waitingWords(hours float64) string {
	switch {
	case hours <= 0:
		return "none"
	case hours == 1:
		return "1 hour"
	}
	return strconv.FormatFloat(hours, 'f', -1, 64) + " hours"
}
